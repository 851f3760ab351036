// The tools' JSON output: one object per line, keys sorted (what `--json` prints in svae and svae-bench).
import Foundation

/// One JSON object as one line (keys sorted, slashes not escaped).
public func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// Prints one JSON object on one line of standard output.
public func printJSON(_ object: [String: Any]) { print(jsonLine(object)) }
