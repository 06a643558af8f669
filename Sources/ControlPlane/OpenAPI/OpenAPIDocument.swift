/// The API's OpenAPI 3.1 document (filled in by the OpenAPI work).
enum OpenAPIDocument {
    static func document() -> JSONValue {
        ["openapi": "3.1.0", "info": ["title": "AgentGrid API", "version": .string(AgentGridVersion.current)], "paths": [:]]
    }
}
