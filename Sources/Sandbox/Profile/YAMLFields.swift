import Yams

/// One node of a composed YAML (or JSON) document, with the dotted path it was reached by
/// and where it sits in the file, so every rejection can name field and line.
///
/// The reader is deliberately strict: a typo in an operator's file must fail loudly at
/// load time instead of silently falling back to a default at run time.
struct YAMLField {
    let node: Node
    /// `limits.memory.default`, `filesystem.read_only[2]`; empty for the document root.
    let path: String
    let file: String
    /// The key this node is the value of. Messages about a whole mapping ("missing key")
    /// point at it: an operator reads `limits:` as where the limits mapping is.
    let keyMark: Mark?

    init(node: Node, path: String, file: String, keyMark: Mark? = nil) {
        self.node = node
        self.path = path
        self.file = file
        self.keyMark = keyMark
    }

    /// A rejection of this node's value, located at the value.
    func error(_ message: String) -> ProfileError {
        // libyaml places an empty value (`key:` with nothing after it) at the next token,
        // often on a later line; the key is where the operator will look.
        let mark = isEmptyScalar ? (keyMark ?? node.mark) : (node.mark ?? keyMark)
        return ProfileError(file: file, line: mark?.line, column: mark?.column, field: path, message: message)
    }

    /// A rejection about the mapping as a whole (a missing key), located at its key.
    func errorAtKey(_ message: String, field: String? = nil) -> ProfileError {
        let mark = keyMark ?? node.mark
        return ProfileError(file: file, line: mark?.line, column: mark?.column, field: field ?? path, message: message)
    }

    // MARK: - typed views

    /// The scalar's text. Numbers and booleans are taken as written (`1`, `true`), since
    /// environment values and names like the `null` device are text to us.
    func string() throws(ProfileError) -> String {
        guard case let .scalar(scalar) = node, !isEmptyScalar else {
            throw error("expected a string, found \(kind)")
        }
        return scalar.string
    }

    func bool() throws(ProfileError) -> Bool {
        guard case let .scalar(scalar) = node, tagName == .bool, let value = Bool.construct(from: scalar) else {
            throw error("expected true or false, found \(kind)")
        }
        return value
    }

    /// A non-negative decimal integer written as a number (JSON `errnoRet`, …).
    func integer() throws(ProfileError) -> Int64 {
        guard case let .scalar(scalar) = node, tagName == .int, let value = Quantity.count(scalar.string) else {
            throw error("expected a non-negative whole number, found \(kind)")
        }
        return value
    }

    /// The items of a list, each with its `[index]` path.
    func sequence() throws(ProfileError) -> [YAMLField] {
        guard case let .sequence(items) = node else { throw error("expected a list, found \(kind)") }
        return items.enumerated().map { index, item in
            YAMLField(node: item, path: "\(path)[\(index)]", file: file, keyMark: item.mark)
        }
    }

    /// The mapping, rejecting any key not in `allowedKeys` (nil: any key, for maps whose
    /// keys are data, like `environment`).
    func mapping(allowedKeys: [String]?) throws(ProfileError) -> YAMLMapping {
        guard case let .mapping(pairs) = node else { throw error("expected a mapping, found \(kind)") }
        var entries: [YAMLMapping.Entry] = []
        for (keyNode, valueNode) in pairs {
            guard case let .scalar(keyScalar) = keyNode, !keyScalar.string.isEmpty else {
                let keyField = YAMLField(node: keyNode, path: path, file: file, keyMark: keyNode.mark)
                throw keyField.error("keys must be plain names, found \(keyField.kind)")
            }
            let key = keyScalar.string
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if let allowedKeys, !allowedKeys.contains(key) {
                throw ProfileError(
                    file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, field: childPath,
                    message: "unknown key '\(key)' (expected one of: \(allowedKeys.joined(separator: ", ")))")
            }
            entries.append(.init(
                key: key, keyMark: keyNode.mark,
                value: YAMLField(node: valueNode, path: childPath, file: file, keyMark: keyNode.mark)))
        }
        return YAMLMapping(field: self, entries: entries)
    }

    // MARK: - describing nodes

    /// The resolved tag (`!!str`, `!!int`, `!!bool`, `!!null`, …); plain scalars are typed by
    /// their text, quoted ones are always strings.
    private var tagName: Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// `key:` with no value, `~` or `null`: present in the file but holding nothing.
    var isEmptyScalar: Bool {
        guard case let .scalar(scalar) = node, tagName == .null else { return false }
        return scalar.string.isEmpty || scalar.string == "~"
    }

    /// What the node is, for "expected X, found Y".
    var kind: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            switch tagName {
            case .null: return isEmptyScalar ? "nothing" : "null"
            case .bool: return "the boolean \(scalar.string)"
            case .int, .float: return "the number \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        }
    }
}

/// The entries of a mapping, in file order, after unknown keys were rejected.
struct YAMLMapping {
    struct Entry {
        let key: String
        let keyMark: Mark?
        let value: YAMLField
    }

    let field: YAMLField
    let entries: [Entry]

    func optional(_ key: String) -> YAMLField? {
        entries.first { $0.key == key }?.value
    }

    func required(_ key: String) throws(ProfileError) -> YAMLField {
        if let value = optional(key) { return value }
        let childPath = field.path.isEmpty ? key : "\(field.path).\(key)"
        throw field.errorAtKey("missing required key '\(key)'", field: childPath)
    }
}

/// Composes `text` into a node tree, turning Yams' syntax errors into located ProfileErrors.
func composeDocument(_ text: String, file: String) throws(ProfileError) -> YAMLField {
    let root: Node?
    do {
        root = try Yams.compose(yaml: text)
    } catch let yamlError as YamlError {
        throw syntaxError(yamlError, text: text, file: file)
    } catch {
        throw ProfileError(file: file, message: "cannot parse: \(error)")
    }
    guard let root else { throw ProfileError(file: file, line: 1, message: "the file is empty") }
    return YAMLField(node: root, path: "", file: file)
}

private func syntaxError(_ error: YamlError, text: String, file: String) -> ProfileError {
    func located(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> ProfileError {
        // Yams' context text carries its own "in line N" location; the mark says it better.
        let message = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
        return ProfileError(file: file, line: mark.line, column: mark.column, message: "YAML syntax error: \(message)")
    }
    switch error {
    case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
         let .composer(context, problem, mark, _):
        return located(mark, problem, context)
    case let .duplicatedKeysInMapping(duplicates, context):
        let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
        return ProfileError(
            file: file, line: context.mark.line, column: context.mark.column,
            // Yams reports where the key first appears; the repeat is further down.
            message: "key \(keys) appears more than once in the same mapping (first here)")
    case let .reader(problem, offset, _, _):
        let line = offset.map { offset in 1 + text.prefix(offset).reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }
        return ProfileError(file: file, line: line, message: "cannot read: \(problem)")
    default:
        return ProfileError(file: file, message: "YAML error: \(error)")
    }
}
