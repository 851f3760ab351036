// Pickle: a restricted unpickler that builds inert values and NEVER executes code.
//
// There is no interpreter here: GLOBAL only records a (module, name) symbol, and REDUCE /
// NEWOBJ / BUILD on a symbol only record "this would have been called with these
// arguments" as an inert `PickleObject`. The torch layer (TorchCheckpoint.swift) later
// recognises the few torch symbols it understands (`_rebuild_tensor_v2`, …) by name.
// `collections.OrderedDict()` becomes a plain dict so SETITEMS fill it.
//
// A REDUCE or NEWOBJ of a known-dangerous callable (`os.system`, `builtins.eval`,
// `subprocess.*`, …) is rejected outright, naming the callable: such a file is not a
// checkpoint, and refusing it is clearer than ignoring the payload.
//
// Opcodes: those of docs/bad-input.md (PROTO, GLOBAL, STACK_GLOBAL, BINPERSID, REDUCE, BUILD,
// NEWOBJ, MARK, EMPTY_DICT/LIST/TUPLE, TUPLE1/2/3, TUPLE, SETITEM(S), APPEND(S),
// BINPUT/LONG_BINPUT/MEMOIZE, BINGET/LONG_BINGET, BININT/1/2, LONG1, BINFLOAT,
// BINUNICODE/SHORT_BINUNICODE, SHORT_BINSTRING, BINBYTES, NONE, NEWTRUE/FALSE, FRAME, STOP)
// plus, because the standard pickler emits them in ordinary checkpoints:
// SHORT_BINBYTES and BINUNICODE8/BINBYTES8 (protocol ≥ 3/4: mmengine may save with a
// higher protocol), BINSTRING (protocol-2 `str` from Python 2 era files), POP / POP_MARK /
// DUP (emitted for recursive tuples), EMPTY_SET / ADDITEMS / FROZENSET (sets in training
// metadata). Anything else is `unknownOpcode`.

/// A malformed or malicious pickle. `path` names the archive and the entry (`file:entry`),
/// `offset` is the opcode's byte offset in the pickle.
package enum PickleError: Error, Equatable {
    /// An opcode outside the supported set.
    case unknownOpcode(path: String, offset: Int, opcode: UInt8)
    /// PROTO with a version above 5.
    case unsupportedProtocol(path: String, offset: Int, version: Int)
    /// An opcode needed more stack items than there were (above the current MARK).
    case stackUnderflow(path: String, offset: Int, opcode: String, needed: Int, found: Int)
    /// An opcode that pops to a MARK found none.
    case missingMark(path: String, offset: Int, opcode: String)
    /// BINGET of an index never stored.
    case unknownMemo(path: String, offset: Int, index: Int)
    /// An argument runs past the end of the pickle (also: lengths of 2^32 or 2^63).
    case truncated(path: String, offset: Int, opcode: String, needed: UInt64, available: Int)
    /// The pickle ended without STOP.
    case noStop(path: String)
    /// Nesting (MARK depth or container depth) above the cap.
    case nestingTooDeep(path: String, offset: Int, limit: Int)
    /// More stack items or memo entries than `ReaderLimits` allows (`what` names which).
    case limitExceeded(path: String, offset: Int, what: String, limit: Int)
    /// REDUCE / NEWOBJ of a known-dangerous callable: refused, nothing runs.
    case dangerousCallable(path: String, offset: Int, name: String)
    /// An operand of the wrong kind (e.g. SETITEM on a list, a non-string STACK_GLOBAL,
    /// REDUCE of a number, invalid UTF-8, an odd SETITEMS count).
    case badOperand(path: String, offset: Int, opcode: String, expected: String, found: String)
}

/// A mutable list built by the pickle (APPEND may fill it after creation).
package final class PickleList {
    /// Items in order.
    package internal(set) var items: [PickleValue] = []
    var depth = 1
    var embedded = false
}

/// A mutable dict built by the pickle; keys are kept in insertion order, duplicates are
/// overwritten (Python semantics) without reordering.
package final class PickleDict {
    /// Entries in insertion order.
    package internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// BUILD state (e.g. the `_metadata` of a state-dict OrderedDict).
    package internal(set) var state: PickleValue?
    var depth = 1
    var embedded = false

    /// Positions of string keys (O(1) overwrite checks: no quadratic work on big dicts).
    private var stringKeys: [String: Int] = [:]

    /// The value for a string key.
    package subscript(key: String) -> PickleValue? {
        stringKeys[key].map { entries[$0].value }
    }

    func set(_ k: PickleValue, _ v: PickleValue) {
        if case .string(let s) = k {
            if let i = stringKeys[s] {
                entries[i].value = v
                return
            }
            stringKeys[s] = entries.count
        }
        entries.append((k, v))
    }
}

/// The inert record of a call the pickle asked for (REDUCE / NEWOBJ) — never performed.
package final class PickleObject {
    /// What would have been called (usually `.global`).
    package let callable: PickleValue
    /// Its arguments (a tuple).
    package let args: PickleValue
    /// BUILD state, if any.
    package internal(set) var state: PickleValue?
    /// Items APPENDed / SETITEM'd onto the object (list or dict subclasses).
    package internal(set) var listItems: [PickleValue] = []
    /// Key/value pairs SETITEM'd onto the object (dict subclasses).
    package internal(set) var dictItems: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
    var embedded = false

    init(callable: PickleValue, args: PickleValue) {
        self.callable = callable
        self.args = args
    }

    /// `module.name` when the callable is a global symbol.
    package var symbol: String? {
        if case .global(let m, let n) = callable { return m + "." + n }
        return nil
    }
}

/// A value produced by the restricted unpickler. Nothing in it is executable.
package enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A symbol from GLOBAL / STACK_GLOBAL; never resolved to code.
    case global(module: String, name: String)
    /// An inert call record (REDUCE / NEWOBJ).
    case object(PickleObject)
    /// A persistent id (BINPERSID) as written: torch writes `('storage', …)` tuples.
    case persistent([PickleValue])

    /// Short description for error messages: at most 6 items per level and 2 levels, so a
    /// value that shares sub-tuples through the memo cannot make it exponential.
    package var summary: String { summary(level: 0) }

    func summary(level: Int) -> String {
        func items(_ t: [PickleValue]) -> String {
            level >= 2 ? (t.isEmpty ? "()" : "(…)")
                : "(" + t.prefix(6).map { $0.summary(level: level + 1) }.joined(separator: ", ") + (t.count > 6 ? ", …)" : ")")
        }
        return switch self {
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): "\(i)"
        case .float(let d): "\(d)"
        case .string(let s): "'\(s.prefix(40))'"
        case .bytes(let b): "bytes(\(b.count))"
        case .tuple(let t): items(t)
        case .list(let l): "list(\(l.items.count))"
        case .dict(let d): "dict(\(d.entries.count))"
        case .global(let m, let n): "\(m.prefix(80)).\(n.prefix(80))"
        case .object(let o): "\(o.callable.summary(level: level + 1))(…)"
        case .persistent(let p): "persid" + items(p)
        }
    }
}

/// Callables whose REDUCE / NEWOBJ is refused outright (code execution gadgets).
enum DangerousCallables {
    static let modules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "pty", "socket", "importlib",
        "runpy", "ctypes", "pickle", "_pickle", "marshal", "code", "codeop", "commands",
        "webbrowser", "multiprocessing", "asyncio", "pdb", "timeit", "signal", "_posixsubprocess",
    ]
    static let names: Set<String> = [
        "builtins.eval", "builtins.exec", "builtins.__import__", "builtins.getattr",
        "builtins.setattr", "builtins.delattr", "builtins.compile", "builtins.open",
        "builtins.globals", "builtins.locals", "builtins.vars", "builtins.input",
        "builtins.breakpoint", "builtins.execfile", "builtins.apply",
        "operator.attrgetter", "operator.methodcaller", "functools.partial",
        "torch.load", "torch.serialization.load", "numpy.load", "numpy.testing._private.utils.runstring",
    ]

    static func isDangerous(module: String, name: String) -> Bool {
        let m = module == "__builtin__" ? "builtins" : module
        let top = String(m.split(separator: ".").first ?? "")
        return modules.contains(top) || names.contains(m + "." + name)
    }
}

/// The restricted unpickler. Use `Unpickler.load(_:path:)`.
///
/// Every value on the stack and in the memo carries its nesting depth, computed once when it
/// is built: a tuple's depth is never recomputed from its items, so a pickle that shares one
/// tuple many times through the memo (a DAG) costs linear time, not exponential.
package struct Unpickler {
    /// Cap on MARK nesting and on container nesting depth.
    package static let maxDepth = 100

    /// Persistent ids seen, in order (the torch layer validates every one).
    package private(set) var persistentIDs: [[PickleValue]] = []

    /// A stack or memo value with its nesting depth (read live for mutable containers).
    struct Item {
        var value: PickleValue
        var depth: Int
    }

    let data: [UInt8]
    let path: String
    let limits: ReaderLimits
    var pos = 0
    var stack: [Item] = []
    var marks: [Int] = []
    var memo: [Int: Item] = [:]
    var opOffset = 0
    var opName = ""

    /// Parses `data` (the bytes of `data.pkl`) into an inert value.
    package static func load(_ data: [UInt8], path: String, limits: ReaderLimits = .default)
        throws(PickleError) -> (value: PickleValue, persistentIDs: [[PickleValue]])
    {
        var u = Unpickler(data: data, path: path, limits: limits)
        let v = try u.run()
        return (v, u.persistentIDs)
    }

    init(data: [UInt8], path: String, limits: ReaderLimits = .default) {
        self.data = data
        self.path = path
        self.limits = limits
    }

    // MARK: operands

    mutating func take(_ n: UInt64) throws(PickleError) -> ArraySlice<UInt8> {
        let avail = data.count - pos
        guard n <= UInt64(avail) else {
            throw .truncated(path: path, offset: opOffset, opcode: opName, needed: n, available: avail)
        }
        let s = data[pos..<(pos + Int(n))]
        pos += Int(n)
        return s
    }

    mutating func uint(_ n: Int) throws(PickleError) -> UInt64 {
        let b = try take(UInt64(n))
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        return v
    }

    mutating func line() throws(PickleError) -> String {
        // GLOBAL operands: "module\n", "name\n"; capped at 256 bytes each.
        var end = pos
        while end < data.count, data[end] != 0x0A, end - pos < 256 { end += 1 }
        guard end < data.count, data[end] == 0x0A else {
            throw .truncated(path: path, offset: opOffset, opcode: opName, needed: UInt64(end - pos + 1), available: data.count - pos)
        }
        let s = String(decoding: data[pos..<end], as: UTF8.self)
        pos = end + 1
        return s
    }

    func utf8(_ b: ArraySlice<UInt8>) throws(PickleError) -> String {
        guard let s = String(validating: b, as: UTF8.self) else {
            throw .badOperand(path: path, offset: opOffset, opcode: opName, expected: "UTF-8 text", found: "invalid bytes")
        }
        return s
    }

    // MARK: stack

    var floor: Int { marks.last ?? 0 }

    /// The current depth of an item: mutable containers keep theirs up to date.
    static func depth(_ item: Item) -> Int {
        switch item.value {
        case .list(let l): l.depth
        case .dict(let d): d.depth
        case .object(let o): o.depth
        default: item.depth
        }
    }

    mutating func popItem() throws(PickleError) -> Item {
        guard stack.count > floor else {
            throw .stackUnderflow(path: path, offset: opOffset, opcode: opName, needed: 1, found: 0)
        }
        return stack.removeLast()
    }

    mutating func pop() throws(PickleError) -> PickleValue { try popItem().value }

    mutating func popN(_ n: Int) throws(PickleError) -> [Item] {
        let have = stack.count - floor
        guard have >= n else {
            throw .stackUnderflow(path: path, offset: opOffset, opcode: opName, needed: n, found: have)
        }
        let items = Array(stack[(stack.count - n)...])
        stack.removeLast(n)
        return items
    }

    mutating func popMark() throws(PickleError) -> [Item] {
        guard let m = marks.popLast() else { throw .missingMark(path: path, offset: opOffset, opcode: opName) }
        let items = Array(stack[m...])
        stack.removeLast(stack.count - m)
        return items
    }

    mutating func push(_ item: Item) throws(PickleError) {
        guard Self.depth(item) <= Self.maxDepth else { throw .nestingTooDeep(path: path, offset: opOffset, limit: Self.maxDepth) }
        guard stack.count < limits.pickleStack else {
            throw .limitExceeded(path: path, offset: opOffset, what: "stack items", limit: limits.pickleStack)
        }
        stack.append(item)
    }

    /// Pushes a scalar, a symbol or a fresh container.
    mutating func push(_ v: PickleValue) throws(PickleError) { try push(Item(value: v, depth: 0)) }

    /// Pushes an immutable sequence (tuple or persistent id) of `items`.
    mutating func pushSequence(_ make: ([PickleValue]) -> PickleValue, _ items: [Item]) throws(PickleError) {
        markEmbedded(items)
        let d = 1 + (items.map(Self.depth).max() ?? 0)
        try push(Item(value: make(items.map(\.value)), depth: d))
    }

    /// Marks children as embedded and returns the depth of `target` (a container) receiving
    /// them. A container already embedded elsewhere may not grow deeper (its parents'
    /// recorded depths would go stale), which bounds every value's true depth by `maxDepth`
    /// and refuses every cycle through two or more containers; a container receiving itself
    /// is refused here. State dicts never hold cycles, and refusing them keeps every loaded
    /// value a tree of finite depth (no reference cycle is ever built, so nothing leaks).
    func adopted(_ children: [Item], into target: AnyObject, depth: Int, embedded: Bool) throws(PickleError) -> Int {
        var d = depth
        for c in children {
            let child: AnyObject? = switch c.value {
            case .list(let l): l
            case .dict(let x): x
            case .object(let o): o
            default: nil
            }
            if let child, child === target {
                throw .badOperand(path: path, offset: opOffset, opcode: opName,
                                  expected: "a value other than the container itself", found: "the container itself (a cycle)")
            }
            d = Swift.max(d, Self.depth(c) + 1)
        }
        markEmbedded(children)
        guard d <= Self.maxDepth, !(embedded && d > depth) else {
            throw .nestingTooDeep(path: path, offset: opOffset, limit: Self.maxDepth)
        }
        return d
    }

    func markEmbedded(_ children: [Item]) {
        for c in children {
            switch c.value {
            case .list(let l): l.embedded = true
            case .dict(let x): x.embedded = true
            case .object(let o): o.embedded = true
            default: break
            }
        }
    }

    func bad(_ expected: String, _ found: PickleValue) -> PickleError {
        .badOperand(path: path, offset: opOffset, opcode: opName, expected: expected, found: found.summary)
    }

    // MARK: calls (recorded, never performed)

    mutating func call(_ callable: Item, _ args: Item) throws(PickleError) -> Item {
        switch callable.value {
        case .global(let m, let n):
            if DangerousCallables.isDangerous(module: m, name: n) {
                throw .dangerousCallable(path: path, offset: opOffset, name: m + "." + n)
            }
            if m == "collections", n == "OrderedDict" {
                let d = PickleDict()
                if case .tuple(let a) = args.value, let first = a.first, case .list(let pairs) = first {
                    for p in pairs.items {
                        guard case .tuple(let kv) = p, kv.count == 2 else { throw bad("(key, value) pairs", p) }
                        d.set(kv[0], kv[1])
                    }
                    // The values sit two levels below the list (list → pair → value): the
                    // list's depth bounds theirs; they are already marked embedded.
                    d.depth = Swift.max(1, pairs.depth - 1)
                }
                return Item(value: .dict(d), depth: 0)
            }
        case .object:
            break  // calling an inert object yields another inert object
        default:
            throw bad("a callable symbol", callable.value)
        }
        let o = PickleObject(callable: callable.value, args: args.value)
        o.depth = try adopted([callable, args], into: o, depth: o.depth, embedded: false)
        return Item(value: .object(o), depth: 0)
    }

    // MARK: main loop

    mutating func run() throws(PickleError) -> PickleValue {
        while pos < data.count {
            opOffset = pos
            let op = data[pos]
            pos += 1
            switch op {
            case 0x80:  // PROTO
                opName = "PROTO"
                let v = Int(try uint(1))
                guard v <= 5 else { throw .unsupportedProtocol(path: path, offset: opOffset, version: v) }
            case 0x95:  // FRAME: a length hint only
                opName = "FRAME"
                _ = try uint(8)
            case UInt8(ascii: "c"):
                opName = "GLOBAL"
                let m = try line()
                let n = try line()
                try push(.global(module: m, name: n))
            case 0x93:
                opName = "STACK_GLOBAL"
                let n = try pop(), m = try pop()
                guard case .string(let ms) = m, case .string(let ns) = n else { throw bad("two strings", .tuple([m, n])) }
                try push(.global(module: ms, name: ns))
            case UInt8(ascii: "Q"):
                opName = "BINPERSID"
                let pid = try popItem()
                if case .tuple(let t) = pid.value {
                    persistentIDs.append(t)
                    try push(Item(value: .persistent(t), depth: pid.depth))  // same items, same depth
                } else {
                    persistentIDs.append([pid.value])
                    try pushSequence(PickleValue.persistent, [pid])
                }
            case UInt8(ascii: "R"):
                opName = "REDUCE"
                let args = try popItem(), f = try popItem()
                try push(try call(f, args))
            case 0x81:
                opName = "NEWOBJ"
                let args = try popItem(), cls = try popItem()
                try push(try call(cls, args))
            case UInt8(ascii: "b"):
                opName = "BUILD"
                let state = try popItem()
                let target = try popItem()
                switch target.value {
                case .object(let o):
                    o.depth = try adopted([state], into: o, depth: o.depth, embedded: o.embedded)
                    o.state = state.value
                case .dict(let d):
                    d.depth = try adopted([state], into: d, depth: d.depth, embedded: d.embedded)
                    d.state = state.value
                default: throw bad("an object", target.value)
                }
                stack.append(target)
            case UInt8(ascii: "("):
                opName = "MARK"
                guard marks.count < Self.maxDepth else { throw .nestingTooDeep(path: path, offset: opOffset, limit: Self.maxDepth) }
                marks.append(stack.count)
            case UInt8(ascii: "}"): opName = "EMPTY_DICT"; try push(.dict(PickleDict()))
            case UInt8(ascii: "]"): opName = "EMPTY_LIST"; try push(.list(PickleList()))
            case UInt8(ascii: ")"): opName = "EMPTY_TUPLE"; try pushSequence(PickleValue.tuple, [])
            case 0x85, 0x86, 0x87:
                opName = "TUPLE\(Int(op) - 0x84)"
                try pushSequence(PickleValue.tuple, try popN(Int(op) - 0x84))
            case UInt8(ascii: "t"):
                opName = "TUPLE"
                try pushSequence(PickleValue.tuple, try popMark())
            case UInt8(ascii: "s"):
                opName = "SETITEM"
                let v = try popItem(), k = try popItem()
                try setItems([k, v])
            case UInt8(ascii: "u"):
                opName = "SETITEMS"
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("key/value pairs", .tuple(items.map(\.value))) }
                try setItems(items)
            case UInt8(ascii: "a"):
                opName = "APPEND"
                let v = try popItem()
                try append([v])
            case UInt8(ascii: "e"):
                opName = "APPENDS"
                try append(try popMark())
            case 0x8f: opName = "EMPTY_SET"; try push(.list(PickleList()))
            case 0x90:
                opName = "ADDITEMS"
                try append(try popMark())
            case 0x91:
                opName = "FROZENSET"
                let items = try popMark()
                let l = PickleList()
                l.depth = try adopted(items, into: l, depth: l.depth, embedded: false)
                l.items = items.map(\.value)
                try push(.list(l))
            case UInt8(ascii: "q"), UInt8(ascii: "r"), 0x94:
                opName = op == 0x94 ? "MEMOIZE" : (op == UInt8(ascii: "q") ? "BINPUT" : "LONG_BINPUT")
                let idx = op == 0x94 ? memo.count : Int(try uint(op == UInt8(ascii: "q") ? 1 : 4))
                guard let top = stack.last, stack.count > floor else {
                    throw .stackUnderflow(path: path, offset: opOffset, opcode: opName, needed: 1, found: 0)
                }
                guard memo.count < limits.pickleMemo || memo[idx] != nil else {
                    throw .limitExceeded(path: path, offset: opOffset, what: "memo entries", limit: limits.pickleMemo)
                }
                memo[idx] = top
            case UInt8(ascii: "h"), UInt8(ascii: "j"):
                opName = op == UInt8(ascii: "h") ? "BINGET" : "LONG_BINGET"
                let idx = Int(try uint(op == UInt8(ascii: "h") ? 1 : 4))
                guard let v = memo[idx] else { throw .unknownMemo(path: path, offset: opOffset, index: idx) }
                try push(v)
            case UInt8(ascii: "J"):
                opName = "BININT"
                try push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))
            case UInt8(ascii: "K"): opName = "BININT1"; try push(.int(Int(try uint(1))))
            case UInt8(ascii: "M"): opName = "BININT2"; try push(.int(Int(try uint(2))))
            case 0x8a:
                opName = "LONG1"
                let n = Int(try uint(1))
                let b = try take(UInt64(n))
                guard n <= 8 else { throw .badOperand(path: path, offset: opOffset, opcode: opName, expected: "≤ 8 bytes", found: "\(n) bytes") }
                var v: UInt64 = 0
                for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
                if n < 8, let top = b.last, top & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
                try push(.int(Int(Int64(bitPattern: v))))
            case UInt8(ascii: "G"):
                opName = "BINFLOAT"
                let b = try take(8)
                var v: UInt64 = 0
                for x in b { v = v << 8 | UInt64(x) }  // big-endian
                try push(.float(Double(bitPattern: v)))
            case UInt8(ascii: "X"), 0x8c, 0x8d:
                opName = op == 0x8c ? "SHORT_BINUNICODE" : (op == 0x8d ? "BINUNICODE8" : "BINUNICODE")
                let n = try uint(op == 0x8c ? 1 : (op == 0x8d ? 8 : 4))
                try push(.string(try utf8(try take(n))))
            case UInt8(ascii: "U"), UInt8(ascii: "T"):
                opName = op == UInt8(ascii: "U") ? "SHORT_BINSTRING" : "BINSTRING"
                let n = try uint(op == UInt8(ascii: "U") ? 1 : 4)
                let b = try take(n)
                if let s = String(validating: b, as: UTF8.self) { try push(.string(s)) } else { try push(.bytes(Array(b))) }
            case UInt8(ascii: "B"), UInt8(ascii: "C"), 0x8e:
                opName = op == UInt8(ascii: "C") ? "SHORT_BINBYTES" : (op == 0x8e ? "BINBYTES8" : "BINBYTES")
                let n = try uint(op == UInt8(ascii: "C") ? 1 : (op == 0x8e ? 8 : 4))
                try push(.bytes(Array(try take(n))))
            case UInt8(ascii: "N"): opName = "NONE"; try push(.none)
            case 0x88: opName = "NEWTRUE"; try push(.bool(true))
            case 0x89: opName = "NEWFALSE"; try push(.bool(false))
            case UInt8(ascii: "0"): opName = "POP"; _ = try pop()
            case UInt8(ascii: "1"): opName = "POP_MARK"; _ = try popMark()
            case UInt8(ascii: "2"):
                opName = "DUP"
                let v = try popItem()
                stack.append(v)
                try push(v)
            case UInt8(ascii: "."):
                opName = "STOP"
                return try pop()
            default:
                throw .unknownOpcode(path: path, offset: opOffset, opcode: op)
            }
        }
        throw .noStop(path: path)
    }

    mutating func setItems(_ kv: [Item]) throws(PickleError) {
        let target = try popItem()
        switch target.value {
        case .dict(let d):
            d.depth = try adopted(kv, into: d, depth: d.depth, embedded: d.embedded)
            for i in stride(from: 0, to: kv.count, by: 2) { d.set(kv[i].value, kv[i + 1].value) }
        case .object(let o):
            o.depth = try adopted(kv, into: o, depth: o.depth, embedded: o.embedded)
            for i in stride(from: 0, to: kv.count, by: 2) { o.dictItems.append((kv[i].value, kv[i + 1].value)) }
        default: throw bad("a dict", target.value)
        }
        stack.append(target)
    }

    mutating func append(_ items: [Item]) throws(PickleError) {
        let target = try popItem()
        switch target.value {
        case .list(let l):
            l.depth = try adopted(items, into: l, depth: l.depth, embedded: l.embedded)
            l.items.append(contentsOf: items.map(\.value))
        case .object(let o):
            o.depth = try adopted(items, into: o, depth: o.depth, embedded: o.embedded)
            o.listItems.append(contentsOf: items.map(\.value))
        default: throw bad("a list", target.value)
        }
        stack.append(target)
    }
}
