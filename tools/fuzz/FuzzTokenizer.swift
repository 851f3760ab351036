// libFuzzer entry point for tokenizer file loading through the one loader
// (`BPETokenizer.load(folder)`). The input is split at "\n--\n" into the files of a fresh folder:
//   first byte even: tokenizer.json, tokenizer_config.json
//   first byte odd:  vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json,
//                    added_tokens.json
// (parts not present are not written). A tokenizer that loads must encode and decode text.
#if canImport(Glibc)
import Glibc
#endif

let tokenizerFileSets = [
    ["tokenizer.json", "tokenizer_config.json"],
    ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"],
]

func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let names = tokenizerFileSets[Int(bytes[0] & 1)]
    let dir = FuzzFile.dir + "/tok"
    mkdir(dir, 0o700)
    for n in tokenizerFileSets.flatMap({ $0 }) { unlink(dir + "/" + n) }
    for (n, part) in zip(names, fuzzSplit(bytes[1...], max: names.count)) { _ = FuzzFile.write(part, name: "tok/" + n) }
    guard let tok = try? BPETokenizer.load(dir) else { return 0 }
    for text in ["Hello there, world!", " a  b\n", "ünï 😀 <s></s>", ""] {
        _ = try? tok.decode(tok.encode(text, addBOS: false), skipSpecialTokens: false)
    }
    return 0
}
