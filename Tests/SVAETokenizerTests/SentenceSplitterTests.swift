import Foundation
import Testing
@testable import SVAETokenizer

@Suite struct SentenceSplitterTests {
    let keep = SentenceSplitter()
    let reference = SentenceSplitter(mimicReference: true)

    @Test func pythonPortGoldens() throws {
        let cases = try Fixtures.jsonLines("splitter_goldens.jsonl")
        #expect(cases.count > 50)
        for c in cases {
            let text = try #require(c["text"] as? String)
            #expect(keep.split(text) == c["keep"] as? [String], "\(text.debugDescription)")
            #expect(reference.split(text) == c["reference"] as? [String], "\(text.debugDescription)")
            #expect(SentenceSplitter(maxSentences: 3).split(text) == c["cap3"] as? [String], "\(text.debugDescription)")
        }
    }

    @Test(arguments: Array("，。”！？；：,.!?;:\"\n\r".unicodeScalars))
    func everySingleDelimiterCuts(_ d: Unicode.Scalar) {
        let text = "ab" + String(d) + "cd"
        #expect(keep.split(text) == ["ab" + String(d), "cd"])
        #expect(reference.split(text) == ["ab" + String(d)])
    }

    @Test(arguments: ["……", "，”", "”，", "。”", "”。", "!”", "”！", "？”", "”？",
                      ",\"", "\",", ".\"", "\".", "!\"", "\"!", "?\"", "\"?"])
    func everyPairIsConsumedWhole(_ pair: String) {
        #expect(keep.split("x" + pair + "y") == ["x" + pair, "y"])
    }

    @Test func trailingSpacesAndNewlinesJoinThePreviousSentence() {
        #expect(keep.split("One.  \n\r Two.\n") == ["One.  \n\r ", "Two.\n"])
        #expect(keep.split("A.\r\nB") == ["A.\r\n", "B"])  // \r\n is two scalars, one Character
        #expect(keep.split("A.\tB") == ["A.", "\tB"])  // a tab does not join
    }

    @Test func chineseAndEllipsis() {
        #expect(keep.split("你好。今天天气很好！是吗？") == ["你好。", "今天天气很好！", "是吗？"])
        #expect(keep.split("等等……然后") == ["等等……", "然后"])
        #expect(keep.split("一…二") == ["一…二"])  // a single … does not cut
        #expect(keep.split("他说：“好。”然后") == ["他说：", "“好。”", "然后"])
    }

    @Test func noPunctuationAndEmpty() {
        #expect(keep.split("no punctuation here") == ["no punctuation here"])
        #expect(reference.split("no punctuation here") == [])
        #expect(keep.split("") == [])
        #expect(reference.split("") == [])
    }

    @Test func capAtMaxSentences() {
        let text = (0..<100).map { "S\($0)." }.joined(separator: " ")
        let out = keep.split(text)
        #expect(out.count == 64)
        #expect(out.last == "S63. ")
        #expect(SentenceSplitter(maxSentences: 2).split("a. b. c") == ["a. ", "b. "])
        #expect(SentenceSplitter(maxSentences: 0).split("a. b.") == [])
    }

    @Test func sentencesConcatenateToTheText() {
        for text in ["Hello, world! How are you?  Fine.\nBye", "😀. 👨‍👩‍👧‍👦! ok", "e\u{301}. x"] {
            #expect(keep.split(text).joined() == text)
        }
    }
}
