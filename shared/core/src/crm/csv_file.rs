//! Reading a spreadsheet export: UTF-8 (with or without a byte-order mark) or, when the
//! bytes are not UTF-8, Windows-1252 (what Excel writes in Brazil; a superset of Latin-1's
//! printable characters); `,`, `;` or tab between fields, whichever the header line uses.

use csv::{ReaderBuilder, Trim, WriterBuilder};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has no rows under its header")]
    NoRows,
    #[error("the file has {0} rows; at most {1} a file")]
    TooManyRows(usize, usize),
    #[error("the header has an empty or repeated column name: {0:?}")]
    BadHeader(String),
    #[error("line {line}: {message}")]
    Malformed { line: u64, message: String },
}

/// A decoded file: its header and rows (cells trimmed; short rows padded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub encoding: &'static str,
    pub separator: u8,
    pub columns: Vec<String>,
    /// Each row with its row number in the spreadsheet (the header is row 1).
    pub rows: Vec<(u32, Vec<String>)>,
}

/// The file's text: UTF-8 when it is valid UTF-8, Windows-1252 otherwise.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), "windows-1252")
        }
    }
}

/// The separator the header line uses most, outside quotes (`,` when none).
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in header.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(s, _)| *s == c) {
            entry.1 += 1;
        }
    }
    counts.iter().filter(|(_, n)| *n > 0).max_by_key(|(_, n)| *n).map(|(s, _)| *s).unwrap_or(b',')
}

/// Reads a file of at most `max_rows` rows under a header; blank rows are skipped.
pub fn read(bytes: &[u8], max_rows: usize) -> Result<Table, CsvError> {
    let (text, encoding) = decode(bytes);
    if text.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let separator = separator(&text);
    let mut reader = ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .trim(Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let malformed = |e: csv::Error| CsvError::Malformed {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        message: e.to_string(),
    };
    let columns: Vec<String> = reader.headers().map_err(malformed)?.iter().map(str::to_owned).collect();
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() || columns[..i].iter().any(|o| o.eq_ignore_ascii_case(c)) {
            return Err(CsvError::BadHeader(c.clone()));
        }
    }
    let mut rows = Vec::new();
    for (ordinal, record) in reader.records().enumerate() {
        let record = record.map_err(malformed)?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        // The spreadsheet's row number (the header is row 1; a cell with line breaks is
        // still one row).
        let line = ordinal as u32 + 2;
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        cells.resize(columns.len(), String::new());
        rows.push((line, cells));
        if rows.len() > max_rows {
            let total = rows.len() + reader.records().count();
            return Err(CsvError::TooManyRows(total, max_rows));
        }
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows);
    }
    Ok(Table { encoding, separator, columns, rows })
}

/// `rows` as CSV text with `separator`, behind a UTF-8 byte-order mark (so Excel reads
/// the accents right).
pub fn write(separator: u8, header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = WriterBuilder::new().delimiter(separator).from_writer(&mut out);
        // Writing to a Vec cannot fail.
        let _ = w.write_record(header);
        for row in rows {
            let _ = w.write_record(row);
        }
        let _ = w.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latin1_semicolon_file_from_excel_reads_with_its_accents() {
        let bytes = b"Nome;Telefone\r\nJo\xe3o Concei\xe7\xe3o;(11) 98765-4321\r\n;\r\n\"Ana; Maria\";11\r\n";
        let t = read(bytes, 10).unwrap();
        assert_eq!((t.encoding, t.separator), ("windows-1252", b';'));
        assert_eq!(t.columns, vec!["Nome", "Telefone"]);
        assert_eq!(t.rows[0], (2, vec!["João Conceição".to_owned(), "(11) 98765-4321".to_owned()]));
        assert_eq!(
            t.rows[1].1[0], "Ana; Maria",
            "quoted separators stay in the cell; the blank row is skipped"
        );
    }

    #[test]
    fn utf8_with_a_bom_and_commas_reads_too_and_big_files_are_refused() {
        let t = read("\u{feff}name,phone\nJoão,1\n".as_bytes(), 10).unwrap();
        assert_eq!((t.encoding, t.separator, t.columns[0].as_str()), ("utf-8", b',', "name"));
        assert_eq!(read(b"a\n1\n2\n3\n", 2), Err(CsvError::TooManyRows(3, 2)));
        assert_eq!(read(b"a,a\n1,2\n", 2), Err(CsvError::BadHeader("a".into())));
        assert_eq!(read(b"a\n", 2), Err(CsvError::NoRows));
    }
}
