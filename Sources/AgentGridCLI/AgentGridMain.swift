import ControlPlane

@main
struct AgentGridMain {
    static func main() async {
        await AgentGridCommand.main()
    }
}
