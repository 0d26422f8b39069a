/// An HTML table declared column by column: each column carries its header and how a row's cell
/// is written, side by side, so a header and its cells cannot drift apart.
struct HTMLTable<Row> {
    /// How a column's cells are set: the `class` of its `<td>` (and `n` on its `<th>`).
    enum Kind {
        case text, mono, number, money
        var cellAttributes: String {
            switch self {
            case .text: ""
            case .mono: " class=mono"
            case .number: " class=n"
            case .money: " class=\"n mono\""
            }
        }
        var headerAttributes: String { self == .number || self == .money ? " class=n" : "" }
    }

    /// One column: its `<th>` and, for a row, its `<td>`.
    struct Column {
        let header: String
        let cell: (Row) -> String

        /// A column titled `title` (HTML) whose cell holds `content(row)` (HTML) set as `kind`.
        init(_ title: String, _ kind: Kind = .text, _ content: @escaping (Row) -> String) {
            header = "<th\(kind.headerAttributes)>\(title)</th>"
            cell = { "<td\(kind.cellAttributes)>\(content($0))</td>" }
        }

        /// A column whose cell's attributes depend on the row (`attributes(row)` starts with a space, or is empty).
        init(_ title: String, _ kind: Kind = .text, attributes: @escaping (Row) -> String, _ content: @escaping (Row) -> String) {
            header = "<th\(kind.headerAttributes)>\(title)</th>"
            cell = { "<td\(attributes($0))>\(content($0))</td>" }
        }
    }

    let columns: [Column]
    /// Attributes of the `<table>` element (starting with a space), e.g. ` class=shards`.
    let tableAttributes: String
    /// Attributes of a row's `<tr>` (starting with a space, or empty), e.g. ` class=off`.
    let rowAttributes: (Row) -> String

    init(_ columns: [Column?], tableAttributes: String = "", rowAttributes: @escaping (Row) -> String = { _ in "" }) {
        self.columns = columns.compactMap { $0 }
        self.tableAttributes = tableAttributes
        self.rowAttributes = rowAttributes
    }

    /// The whole table: the headers, then one `<tr>` per row.
    func render(_ rows: some Sequence<Row>) -> String {
        var h = "<table\(tableAttributes)><thead><tr>" + columns.map(\.header).joined() + "</tr></thead><tbody>"
        for row in rows { h += "<tr\(rowAttributes(row))>" + columns.map { $0.cell(row) }.joined() + "</tr>" }
        return h + "</tbody></table>"
    }
}
