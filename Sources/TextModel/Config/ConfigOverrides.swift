/// `SECTION.KEY=VALUE` overrides of a config, as the command line gives them
/// (`textmodel train --set training.epochs=3`, like `bindings/c/classify.c --set`): the
/// value is taken as JSON when it is valid JSON (`16`, `0.5`, `true`, `"x"`, `[3, 5]`)
/// and as a plain string otherwise (`adam`). The overridden JSON is then read as any
/// config is, so an unknown key or a bad value is the same `TM_ERR_CONFIG` naming it.
extension Config {
    /// The config of `json` (nil or blank: the defaults) with `overrides` applied in order.
    public init(json: String?, overrides: [String]) throws {
        var root = JSONValue.object([])
        if let json = json, json.contains(where: { !$0.isWhitespace }) {
            root = try JSONValue.parse(json, what: "the config")
            guard case .object = root else {
                throw TextModelError.config("the config must be a JSON object (got \(root.typeName))")
            }
        }
        for override in overrides {
            root = try Config.applying(override, to: root)
        }
        try self.init(value: root)
    }

    /// The config in the file at `path` (which must hold a JSON object; an empty file is
    /// an error, not the defaults) with `overrides` applied in order.
    public init(contentsOf path: String, overrides: [String]) throws {
        var bytes = try FileIO.readAll(path, limit: 64 << 20, limitName: "the 64 MB config file limit")
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else {
            throw TextModelError.config("the config file \(path) is empty: it must hold a JSON object ({} for the defaults)")
        }
        let root = try JSONValue.parse(bytes: &bytes, what: "the config file \(path)")
        guard case .object = root else {
            throw TextModelError.config("the config file \(path) must hold a JSON object (got \(root.typeName))")
        }
        try self.init(value: overrides.reduce(root) { try Config.applying($1, to: $0) })
    }

    /// `root` with one `KEY.PATH=VALUE` override set, creating the objects on its path.
    static func applying(_ override: String, to root: JSONValue) throws -> JSONValue {
        guard let equals = override.firstIndex(of: "=") else {
            throw TextModelError.config("an override must be KEY=VALUE, e.g. training.epochs=3 (got \"\(override)\")")
        }
        let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.contains(where: \.isEmpty) {
            throw TextModelError.config("the override \"\(override)\" has an empty key in its path (write SECTION.KEY=VALUE)")
        }
        let text = String(override[override.index(after: equals)...])
        let value = (try? JSONValue.parse(text, what: "the override's value")) ?? .string(text)
        return try setting(path[...], to: value, in: root, at: "")
    }

    private static func setting(_ path: ArraySlice<String>, to value: JSONValue, in node: JSONValue, at prefix: String) throws -> JSONValue {
        guard let key = path.first else { return value }
        guard case .object(var members) = node else {
            throw TextModelError.config("cannot set \(prefix)\(key): \(prefix.dropLast()) is \(node.typeName) in the config, not an object")
        }
        let child = members.last(where: { $0.0 == key })?.1 ?? .object([])
        let updated = try setting(path.dropFirst(), to: value, in: child, at: "\(prefix)\(key).")
        members.removeAll { $0.0 == key }
        members.append((key, updated))
        return .object(members)
    }
}
