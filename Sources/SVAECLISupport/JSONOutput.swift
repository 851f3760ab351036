// The tools' JSON output: one object per line, keys sorted (what `--json` prints in svae and svae-bench).
import Foundation

/// One JSON object as one line (keys sorted, slashes not escaped). JSON has no NaN or infinity:
/// a number that is not finite is written as null (as JavaScript's JSON.stringify does), never
/// dropped with the rest of the object.
public func jsonLine(_ object: [String: Any]) -> String {
    let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: options))
        ?? (try? JSONSerialization.data(withJSONObject: finiteOrNull(object), options: options))
        ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// `value` with every non-finite Double or Float replaced by null, in arrays and objects too.
func finiteOrNull(_ value: Any) -> Any {
    switch value {
    case let d as Double: return d.isFinite ? d : NSNull()
    case let f as Float: return f.isFinite ? f : NSNull()
    case let a as [Any]: return a.map(finiteOrNull)
    case let o as [String: Any]: return o.mapValues(finiteOrNull)
    default: return value
    }
}

/// Prints one JSON object on one line of standard output.
public func printJSON(_ object: [String: Any]) { print(jsonLine(object)) }

/// One JSON object as one line, with one more member whose value is already JSON text (`raw`),
/// written last: for large number arrays, which JSONSerialization formats slowly. `key` must sort
/// after every key of `object`, so the line is what `jsonLine` would write for the whole object.
public func jsonLine(_ object: [String: Any], appending key: String, raw: String) -> String {
    assert(object.keys.allSatisfy { $0 < key }, "\(key) must sort after the other keys")
    let head = jsonLine(object)
    let member = jsonLine([key: 0]).dropFirst().dropLast(2) + raw  // the key, quoted and escaped as JSON does
    return head == "{}" ? "{" + member + "}" : head.dropLast() + "," + member + "}"
}
