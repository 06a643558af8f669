// The control plane (HTTP API, store, billing, dispatch) arrives with its own issue; until
// then this executable only says so, so the package's product list is already final.
print("agentgrid: the control plane is not built yet; see `agentgrid-runner` for the sandbox runtime.")
