/// The syntax of loss expressions: tokens, the abstract syntax tree and a recursive-descent
/// parser that reports errors at the 1-based column of the offending character.
///
/// Grammar (lowest precedence first; `^` is right-associative and binds tighter than a
/// unary sign, so `-x^2 == -(x^2)`, `2^3^2 == 2^9` and `2^-1 == 0.5`):
///
///     expression := term (('+' | '-') term)*
///     term       := unary (('*' | '/') unary)*
///     unary      := ('+' | '-') unary | power
///     power      := primary ('^' unary)?
///     primary    := number | name | name '(' expression (',' expression)* ')' | '(' expression ')'
///
/// Numbers are integers, decimals (`1.`, `.5`) or scientific (`1.5e-3`, `2E4`); `2e-3` is a
/// number, not `2*e - 3`. Names are the variables `x y z`, the constants `pi e` and the
/// functions `sin cos tan exp log sqrt abs tanh` (one argument) and `min max` (two).
/// Whitespace is ignored.
public struct LossExpression: Sendable, CustomStringConvertible {
    /// The text as the user wrote it.
    public let text: String
    let root: SyntaxNode

    /// Parses `text`; throws `RelaxError.parse` with the column and what was expected.
    public init(parsing text: String) throws {
        self.text = text
        var parser = ExpressionParser(text)
        root = try parser.parseComplete()
    }

    /// The number of variables: 1 for `x` (and for constant expressions), 2 if `y` is the
    /// highest variable used, 3 if `z` is.
    public var dimension: Int { max(1, root.highestVariable + 1) }

    /// The expression with explicit parentheses, e.g. `-(x ^ 2)`, to show how it was read.
    public var description: String { root.description }
}

/// The one-argument functions of the language.
enum UnaryFunction: String, CaseIterable, Sendable, Hashable {
    case negate = "-"
    case sin, cos, tan, exp, log, sqrt, abs, tanh

    /// The functions a user can call by name, in the order error messages list them.
    static let callable: [UnaryFunction] = [.sin, .cos, .tan, .exp, .log, .sqrt, .abs, .tanh]
}

/// The two-argument operators and functions of the language.
enum BinaryOperator: String, CaseIterable, Sendable, Hashable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", power = "^"
    case min, max

    static let callable: [BinaryOperator] = [.min, .max]
}

/// A node of the syntax tree with its source span (0-based character offsets, half open).
struct SyntaxNode: Sendable, CustomStringConvertible {
    indirect enum Kind: Sendable {
        case number(Double)
        /// `x`, `y`, `z` as axis 0, 1, 2.
        case variable(Int)
        case unary(UnaryFunction, SyntaxNode)
        case binary(BinaryOperator, SyntaxNode, SyntaxNode)
    }

    let kind: Kind
    let span: Range<Int>

    /// The highest axis used (-1 for a constant expression).
    var highestVariable: Int {
        switch kind {
        case .number: return -1
        case let .variable(k): return k
        case let .unary(_, a): return a.highestVariable
        case let .binary(_, a, b): return Swift.max(a.highestVariable, b.highestVariable)
        }
    }

    var description: String {
        switch kind {
        case let .number(v): return Self.format(v)
        case let .variable(k): return Grid.axisNames[k]
        case let .unary(.negate, a): return "-(\(a))"
        case let .unary(f, a): return "\(f.rawValue)(\(a))"
        case let .binary(op, a, b) where BinaryOperator.callable.contains(op):
            return "\(op.rawValue)(\(a), \(b))"
        case let .binary(op, a, b): return "(\(a) \(op.rawValue) \(b))"
        }
    }

    static func format(_ v: Double) -> String {
        if v == Double.pi { return "pi" }
        if v == 2.718281828459045 { return "e" }
        if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int(v)) }
        return String(v)
    }
}

/// A token with its 0-based character offset.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case number(Double)
        case name(String)
        case symbol(Character)
        case end
    }
    let kind: Kind
    let offset: Int
    let length: Int

    /// How the token reads in an error message.
    var quoted: String {
        switch kind {
        case let .number(v): return "'\(SyntaxNode.format(v))'"
        case let .name(s): return "'\(s)'"
        case let .symbol(c): return "'\(c)'"
        case .end: return "end of input"
        }
    }
}

/// Splits an expression into tokens; reports malformed numbers and unknown characters
/// lazily (as a `symbol` the parser then rejects with what it expected).
struct ExpressionLexer {
    let characters: [Character]
    let text: String

    init(_ text: String) {
        self.text = text
        self.characters = Array(text)
    }

    func error(_ message: String, at offset: Int) -> RelaxError {
        .parse(message: message, column: offset + 1, expression: text)
    }

    func tokenize() throws -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace {
                i += 1
            } else if c.isASCIIDigit || (c == "." && i + 1 < characters.count && characters[i + 1].isASCIIDigit) {
                let (value, length) = try number(at: i)
                tokens.append(Token(kind: .number(value), offset: i, length: length))
                i += length
            } else if c.isASCIILetter || c == "_" {
                var j = i
                while j < characters.count, characters[j].isASCIILetter || characters[j].isASCIIDigit || characters[j] == "_" { j += 1 }
                tokens.append(Token(kind: .name(String(characters[i..<j])), offset: i, length: j - i))
                i = j
            } else if c == "*", i + 1 < characters.count, characters[i + 1] == "*" {
                throw error("'**' is not an operator; write '^' for powers", at: i)
            } else {
                tokens.append(Token(kind: .symbol(c), offset: i, length: 1))
                i += 1
            }
        }
        tokens.append(Token(kind: .end, offset: characters.count, length: 0))
        return tokens
    }

    /// digits [. digits] [(e|E) [+|-] digits], or . digits [...]
    private func number(at start: Int) throws -> (Double, Int) {
        var j = start
        func digits() { while j < characters.count, characters[j].isASCIIDigit { j += 1 } }
        digits()
        if j < characters.count, characters[j] == "." {
            j += 1
            digits()
        }
        if j < characters.count, characters[j] == "e" || characters[j] == "E" {
            // An exponent only if digits follow (optionally signed); otherwise `e` is a name.
            var k = j + 1
            if k < characters.count, characters[k] == "+" || characters[k] == "-" { k += 1 }
            if k < characters.count, characters[k].isASCIIDigit {
                j = k
                digits()
            }
        }
        let literal = String(characters[start..<j])
        guard let value = Double(literal), value.isFinite else {
            throw error("number '\(literal)' is out of range; expected a finite number", at: start)
        }
        return (value, j - start)
    }
}

fileprivate extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetter: Bool { isASCII && isLetter }
}

/// Recursive descent over the grammar in `LossExpression`.
struct ExpressionParser {
    private let lexer: ExpressionLexer
    private var tokens: [Token] = []
    private var position = 0

    static let constants: [String: Double] = ["pi": Double.pi, "e": 2.718281828459045]
    static let variables = ["x", "y", "z"]

    init(_ text: String) {
        lexer = ExpressionLexer(text)
    }

    private var current: Token { tokens[position] }

    private mutating func advance() -> Token {
        let t = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private func error(_ message: String, at token: Token) -> RelaxError {
        lexer.error(message, at: token.offset)
    }

    private func isSymbol(_ c: Character) -> Bool { current.kind == .symbol(c) }

    mutating func parseComplete() throws -> SyntaxNode {
        tokens = try lexer.tokenize()
        let node = try expression()
        guard current.kind == .end else {
            var message = "unexpected \(current.quoted) after a complete expression"
            switch current.kind {
            case .name, .number, .symbol("("): message += "; write '*' to multiply"
            case .symbol(")"): message += "; no '(' is open"
            default: break
            }
            throw error(message, at: current)
        }
        return node
    }

    private mutating func expression() throws -> SyntaxNode {
        var left = try term()
        while case let .symbol(c) = current.kind, c == "+" || c == "-" {
            _ = advance()
            let right = try term()
            left = SyntaxNode(kind: .binary(c == "+" ? .add : .subtract, left, right),
                              span: left.span.lowerBound..<right.span.upperBound)
        }
        return left
    }

    private mutating func term() throws -> SyntaxNode {
        var left = try unary()
        while case let .symbol(c) = current.kind, c == "*" || c == "/" {
            _ = advance()
            let right = try unary()
            left = SyntaxNode(kind: .binary(c == "*" ? .multiply : .divide, left, right),
                              span: left.span.lowerBound..<right.span.upperBound)
        }
        return left
    }

    private mutating func unary() throws -> SyntaxNode {
        if case let .symbol(c) = current.kind, c == "+" || c == "-" {
            let sign = advance()
            let operand = try unary()
            let span = sign.offset..<operand.span.upperBound
            return c == "+" ? SyntaxNode(kind: operand.kind, span: span)
                : SyntaxNode(kind: .unary(.negate, operand), span: span)
        }
        return try power()
    }

    private mutating func power() throws -> SyntaxNode {
        let base = try primary()
        guard isSymbol("^") else { return base }
        _ = advance()
        let exponent = try unary()
        return SyntaxNode(kind: .binary(.power, base, exponent), span: base.span.lowerBound..<exponent.span.upperBound)
    }

    private mutating func primary() throws -> SyntaxNode {
        let token = current
        switch token.kind {
        case let .number(v):
            _ = advance()
            return SyntaxNode(kind: .number(v), span: token.offset..<token.offset + token.length)
        case let .name(name):
            _ = advance()
            if isSymbol("(") { return try call(name, at: token) }
            let span = token.offset..<token.offset + token.length
            if let k = Self.variables.firstIndex(of: name) { return SyntaxNode(kind: .variable(k), span: span) }
            if let v = Self.constants[name] { return SyntaxNode(kind: .number(v), span: span) }
            if Self.functionNames.contains(name) {
                throw error("expected '(' after function '\(name)', found \(current.quoted)", at: current)
            }
            throw error("unknown name '\(name)'; expected x, y, z, pi or e", at: token)
        case .symbol("("):
            _ = advance()
            let inner = try expression()
            try close(openedAt: token)
            return SyntaxNode(kind: inner.kind, span: token.offset..<tokens[position - 1].offset + 1)
        case .end:
            throw error("expected an expression, found end of input", at: token)
        case .symbol:
            throw error("expected a number or name, found \(token.quoted)", at: token)
        }
    }

    static let functionNames: [String] =
        UnaryFunction.callable.map(\.rawValue) + BinaryOperator.callable.map(\.rawValue)

    private mutating func call(_ name: String, at nameToken: Token) throws -> SyntaxNode {
        let arity: Int
        if UnaryFunction(rawValue: name).map(UnaryFunction.callable.contains) == true {
            arity = 1
        } else if BinaryOperator(rawValue: name).map(BinaryOperator.callable.contains) == true {
            arity = 2
        } else {
            var message = "unknown function '\(name)'; expected one of \(Self.functionNames.joined(separator: ", "))"
            if let guess = Self.closest(to: name, among: Self.functionNames) { message += " (did you mean '\(guess)'?)" }
            if Self.variables.contains(name) || Self.constants[name] != nil {
                message = "'\(name)' is not a function; write '*' to multiply"
            }
            throw error(message, at: nameToken)
        }
        let open = advance()
        var arguments = [try expression()]
        while isSymbol(",") {
            _ = advance()
            arguments.append(try expression())
        }
        try close(openedAt: open)
        guard arguments.count == arity else {
            throw error("\(name) takes \(arity) argument\(arity == 1 ? "" : "s"), got \(arguments.count)", at: nameToken)
        }
        let span = nameToken.offset..<tokens[position - 1].offset + 1
        if arity == 1 {
            return SyntaxNode(kind: .unary(UnaryFunction(rawValue: name)!, arguments[0]), span: span)
        }
        return SyntaxNode(kind: .binary(BinaryOperator(rawValue: name)!, arguments[0], arguments[1]), span: span)
    }

    private mutating func close(openedAt open: Token) throws {
        guard isSymbol(")") else {
            throw error("expected ')' to close '(' opened at column \(open.offset + 1), found \(current.quoted)", at: current)
        }
        _ = advance()
    }

    /// The known name at edit distance 1 or 2 from `name`, if there is exactly one best.
    static func closest(to name: String, among names: [String]) -> String? {
        let scored = names.map { ($0, editDistance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return scored.filter { $0.1 == best.1 }.count == 1 ? best.0 : nil
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
