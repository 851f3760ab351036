import Testing

import SVAECLISupport
@testable import svae

/// `svae generate --prompt-ids`: the strict JSON reader, exact integers in Int32 range only.
@Suite struct PromptIDsTests {
    @Test func acceptsArraysOfIntegers() throws {
        #expect(try Generate.parseIDs("[[2,31,7],[2,9]]") == [[2, 31, 7], [2, 9]])
        #expect(try Generate.parseIDs(" [ [ 2 ] ] ") == [[2]])
    }

    @Test func refusesEverythingElse() {
        // a duplicate-free but wrong shape, fractions, exponents, out-of-range ids, trailing text,
        // and JSON that Foundation's lenient reader accepted (a trailing comma is not JSON)
        for bad in ["[2,3]", "[[2.5]]", "[[1e3]]", "[[2147483648]]", "[[2]] x", "[[2,]]", "{\"a\": [2]}", "", "[[\"2\"]]", "[[true]]"] {
            #expect(throws: CLIError.self, "\(bad.debugDescription)") { try Generate.parseIDs(bad) }
        }
    }
}
