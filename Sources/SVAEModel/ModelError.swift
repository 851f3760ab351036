import SVAEFormat
import SVAEKernels

/// Errors of the model layer. Each names what was expected and what was found.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file failed validation (structure or model schema).
    case format(SVAEFormatError)
    case wrongArchitecture(file: String, expected: String, found: String)
    case kernel(tensor: String, KernelError)
    /// A token id outside the vocabulary, in input `index` at `position`.
    case tokenOutOfRange(input: Int, position: Int, id: Int32, vocab: Int)
    /// A sentence longer than the model's max_seq_len (BOS included).
    case sentenceTooLong(input: Int, tokens: Int, max: Int)
    case emptySentence(input: Int)
    case vectorSize(expected: Int, found: Int)
    case nonFiniteVector(index: Int)
    case bigEndianHost
    case badOption(name: String, expected: String, found: String)
    /// A prompt with no sentence (SLLM) or no token (OPT).
    case emptyPrompt
    /// The positions of the LLM (sentences for an SLLM, tokens for OPT) would exceed the model's table.
    case contextFull(positions: Int, max: Int)

    /// The same error naming input `f(i)` instead of input `i` (for a caller that numbers its
    /// inputs otherwise: a request number instead of a row of one step).
    public func renumberingInput(_ f: (Int) -> Int) -> ModelError {
        switch self {
        case let .tokenOutOfRange(i, p, id, v): .tokenOutOfRange(input: f(i), position: p, id: id, vocab: v)
        case let .sentenceTooLong(i, n, m): .sentenceTooLong(input: f(i), tokens: n, max: m)
        case let .emptySentence(i): .emptySentence(input: f(i))
        default: self
        }
    }

    public var description: String {
        switch self {
        case let .format(e): e.description
        case let .wrongArchitecture(file, e, f): "\(file): expected architecture \(e), found \(f)"
        case let .kernel(t, e): "tensor \(t): \(e)"
        case let .tokenOutOfRange(i, p, id, v): "input \(i), position \(p): token id \(id) outside the vocabulary 0..<\(v)"
        case let .sentenceTooLong(i, n, m): "input \(i): expected at most \(m) tokens (max_seq_len, BOS included), found \(n)"
        case let .emptySentence(i): "input \(i): expected at least one token, found none"
        case let .vectorSize(e, f): "sentence vector: expected \(e) values, found \(f)"
        case let .nonFiniteVector(i): "sentence vector: expected finite values, found NaN or Inf at \(i)"
        case .bigEndianHost: "this runtime reads little-endian weights in place and needs a little-endian CPU"
        case let .badOption(n, e, f): "\(n): expected \(e), found \(f)"
        case .emptyPrompt: "prompt: expected at least one sentence or token, found none"
        case let .contextFull(p, m): "context: expected at most \(m) positions (max_positions), found \(p)"
        }
    }
}
