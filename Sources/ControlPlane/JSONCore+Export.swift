// The strict JSON model is part of the control plane's vocabulary (bodies, outputs, configs):
// every file here and every client of this module sees it without importing it again.
@_exported import JSONCore
