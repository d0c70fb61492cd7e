import Foundation

/// A bounds-checked reader of the FlatBuffers binary format (the encoding of `.tflite` files).
///
/// Layout (little-endian throughout): the buffer starts with a `uoffset` (u32) to the root table. A table at
/// position `t` starts with an `soffset` (i32): its vtable is at `t − soffset`. A vtable is `u16 vtableBytes,
/// u16 tableBytes, u16 fieldOffset[n]`; field `i` lives at `t + fieldOffset[i]`, absent when the offset is 0 or
/// `i ≥ n`. Tables, vectors and strings are referenced by a `uoffset` relative to where it is stored. A vector is
/// `u32 count` followed by its elements; a string is a byte vector (plus a terminating 0).
///
/// Every read is checked against the buffer: a file that points outside itself throws `FlatBufferError` naming the
/// offset and what was being read, never traps.
struct FlatBuffer {
    let bytes: [UInt8]

    init(_ data: Data) { bytes = [UInt8](data) }

    var count: Int { bytes.count }

    func check(_ position: Int, _ size: Int, _ what: @autoclosure () -> String) throws {
        guard position >= 0, size >= 0, position <= bytes.count - size else {
            throw FlatBufferError(offset: position, reading: what(),
                                  reason: "needs \(size) bytes but the file has \(bytes.count)")
        }
    }

    func u8(_ p: Int, _ what: @autoclosure () -> String) throws -> UInt8 {
        try check(p, 1, what()); return bytes[p]
    }
    func u16(_ p: Int, _ what: @autoclosure () -> String) throws -> UInt16 {
        try check(p, 2, what()); return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
    }
    func u32(_ p: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try check(p, 4, what())
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    func u64(_ p: Int, _ what: @autoclosure () -> String) throws -> UInt64 {
        let lo = try u32(p, what()), hi = try u32(p + 4, what())
        return UInt64(lo) | UInt64(hi) << 32
    }

    /// Follows the `uoffset` stored at `p`.
    func follow(_ p: Int, _ what: @autoclosure () -> String) throws -> Int {
        let target = p + Int(try u32(p, what()))
        try check(target, 4, what())
        return target
    }

    /// The root table.
    func root() throws -> FlatTable { FlatTable(buffer: self, position: try follow(0, "root table offset"), name: "root") }

    /// The 4-byte file identifier after the root offset ("TFL3" for TFLite), or nil when the file is too short.
    var identifier: String? {
        guard bytes.count >= 8 else { return nil }
        return String(decoding: bytes[4..<8], as: UTF8.self)
    }
}

/// A failure reading a FlatBuffer: where, while reading what, and why.
struct FlatBufferError: Error, CustomStringConvertible {
    var offset: Int, reading: String, reason: String
    var description: String { "at byte offset \(offset) reading \(reading): \(reason)" }
}

/// One table of a FlatBuffer, with typed accessors by field index (the order of fields in the schema).
struct FlatTable {
    let buffer: FlatBuffer
    let position: Int
    /// What this table is (for error messages), e.g. "Operator 12".
    let name: String

    /// Absolute position of field `index`, or nil when absent.
    func fieldPosition(_ index: Int) throws -> Int? {
        let soffset = Int32(bitPattern: try buffer.u32(position, "\(name) vtable offset"))
        let vtable = position - Int(soffset)
        let vtableBytes = Int(try buffer.u16(vtable, "\(name) vtable size"))
        guard vtableBytes >= 4, vtableBytes % 2 == 0 else {
            throw FlatBufferError(offset: vtable, reading: "\(name) vtable", reason: "size \(vtableBytes) is not a valid vtable size")
        }
        try buffer.check(vtable, vtableBytes, "\(name) vtable")
        let slot = 4 + 2 * index
        guard slot + 2 <= vtableBytes else { return nil }
        let offset = Int(try buffer.u16(vtable + slot, "\(name) field \(index) offset"))
        return offset == 0 ? nil : position + offset
    }

    func has(_ index: Int) throws -> Bool { try fieldPosition(index) != nil }

    func u8(_ index: Int, default value: UInt8 = 0) throws -> UInt8 {
        guard let p = try fieldPosition(index) else { return value }
        return try buffer.u8(p, "\(name) field \(index)")
    }
    func bool(_ index: Int, default value: Bool = false) throws -> Bool { try u8(index, default: value ? 1 : 0) != 0 }
    func i8(_ index: Int, default value: Int8 = 0) throws -> Int8 { Int8(bitPattern: try u8(index, default: UInt8(bitPattern: value))) }
    func u32(_ index: Int, default value: UInt32 = 0) throws -> UInt32 {
        guard let p = try fieldPosition(index) else { return value }
        return try buffer.u32(p, "\(name) field \(index)")
    }
    func i32(_ index: Int, default value: Int32 = 0) throws -> Int32 {
        Int32(bitPattern: try u32(index, default: UInt32(bitPattern: value)))
    }
    func u64(_ index: Int, default value: UInt64 = 0) throws -> UInt64 {
        guard let p = try fieldPosition(index) else { return value }
        return try buffer.u64(p, "\(name) field \(index)")
    }
    func f32(_ index: Int, default value: Float = 0) throws -> Float {
        Float(bitPattern: try u32(index, default: value.bitPattern))
    }

    /// The sub-table in field `index`, or nil when absent.
    func table(_ index: Int, name subName: String) throws -> FlatTable? {
        guard let p = try fieldPosition(index) else { return nil }
        return FlatTable(buffer: buffer, position: try buffer.follow(p, "\(subName) offset"), name: subName)
    }

    /// The vector in field `index`: position of its first element and its length (0 elements when absent).
    func vector(_ index: Int, elementSize: Int, what: String) throws -> (start: Int, count: Int) {
        guard let p = try fieldPosition(index) else { return (0, 0) }
        let v = try buffer.follow(p, "\(what) offset")
        let n = Int(try buffer.u32(v, "\(what) length"))
        let (bytes, overflow) = n.multipliedReportingOverflow(by: elementSize)
        guard !overflow else {
            throw FlatBufferError(offset: v, reading: what, reason: "length \(n) overflows")
        }
        try buffer.check(v + 4, bytes, "\(what) (\(n) elements of \(elementSize) bytes)")
        return (v + 4, n)
    }

    func int32Vector(_ index: Int, what: String) throws -> [Int32] {
        let (start, n) = try vector(index, elementSize: 4, what: what)
        return try (0..<n).map { Int32(bitPattern: try buffer.u32(start + 4 * $0, what)) }
    }
    func int64Vector(_ index: Int, what: String) throws -> [Int64] {
        let (start, n) = try vector(index, elementSize: 8, what: what)
        return try (0..<n).map { Int64(bitPattern: try buffer.u64(start + 8 * $0, what)) }
    }
    func floatVector(_ index: Int, what: String) throws -> [Float] {
        let (start, n) = try vector(index, elementSize: 4, what: what)
        return try (0..<n).map { Float(bitPattern: try buffer.u32(start + 4 * $0, what)) }
    }
    /// The byte range of a `[ubyte]` field.
    func byteRange(_ index: Int, what: String) throws -> Range<Int> {
        let (start, n) = try vector(index, elementSize: 1, what: what)
        return start..<(start + n)
    }
    func tables(_ index: Int, what: String) throws -> [FlatTable] {
        let (start, n) = try vector(index, elementSize: 4, what: what)
        return try (0..<n).map { i in
            FlatTable(buffer: buffer, position: try buffer.follow(start + 4 * i, "\(what) \(i) offset"), name: "\(what) \(i)")
        }
    }
    func string(_ index: Int, what: String) throws -> String? {
        guard try has(index) else { return nil }
        let r = try byteRange(index, what: what)
        return String(decoding: buffer.bytes[r], as: UTF8.self)
    }
}
