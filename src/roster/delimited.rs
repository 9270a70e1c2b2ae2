//! CSV and TSV rosters: whatever Excel, LibreOffice, pandas or a text editor
//! saved. A UTF-8 byte-order mark is ignored, the delimiter is sniffed from
//! the header line (Excel writes `;` in many locales), and rows may be ragged.

use std::path::Path;

use super::error::RosterError;
use super::format::{looks_like_workbook, Format};
use super::grid::{Grid, RawCell};

/// The UTF-8 byte-order mark Excel puts at the start of "CSV UTF-8" files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads delimited text into a grid. `format` is [`Format::Tsv`] for tabs;
/// anything else sniffs the delimiter.
pub(crate) fn read_delimited(path: &Path, bytes: &[u8], format: Format) -> Result<Grid, RosterError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    if looks_like_workbook(bytes) {
        return Err(RosterError::NotText { path: path.to_path_buf() });
    }
    let text = std::str::from_utf8(bytes).map_err(|error| RosterError::NotUtf8 {
        path: path.to_path_buf(),
        line: 1 + bytes[..error.valid_up_to()].iter().filter(|&&byte| byte == b'\n').count(),
    })?;
    let delimiter = match format {
        Format::Tsv => b'\t',
        _ => sniff_delimiter(text),
    };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());

    let mut grid = Grid::default();
    // Line breaks inside quoted fields: a spreadsheet shows such a record as
    // one row, so they are taken off the line number.
    let mut inner_breaks = 0;
    let (mut line, mut counted_to) = (1, 0);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Err(RosterError::Csv {
                    path: path.to_path_buf(),
                    line: error.position().map_or(0, csv::Position::line),
                    reason: error.to_string(),
                })
            }
        }
        // The line the record starts on. The parser's position is just past
        // the previous record, before any line ends and blank lines, which
        // it skips; so step over those and count the line ends.
        let after_previous = record.position().map_or(0, |p| p.byte() as usize);
        let start = after_previous
            + text.as_bytes()[after_previous.min(text.len())..]
                .iter()
                .take_while(|&&byte| byte == b'\r' || byte == b'\n')
                .count();
        if start > counted_to {
            line += text.as_bytes()[counted_to..start].iter().filter(|&&byte| byte == b'\n').count();
            counted_to = start;
        }
        let cells = record
            .iter()
            .map(|field| if field.is_empty() { RawCell::Empty } else { RawCell::Text(field.to_string()) })
            .collect();
        grid.rows.push((line - inner_breaks, cells));
        inner_breaks += record.iter().map(|field| field.matches('\n').count()).sum::<usize>();
    }
    Ok(grid)
}

/// Picks `,`, `;` or tab: whichever the first non-blank line holds most of;
/// ties go to `,`.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let count = |delimiter: char| header.matches(delimiter).count();
    let mut best = (b',', count(','));
    for (delimiter, found) in [(b';', count(';')), (b'\t', count('\t'))] {
        if found > best.1 {
            best = (delimiter, found);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(grid: &Grid) -> Vec<(usize, Vec<String>)> {
        grid.rows.iter().map(|(number, row)| (*number, row.iter().map(RawCell::text).collect())).collect()
    }

    fn read(text: &str, format: Format) -> Grid {
        read_delimited(Path::new("t.csv"), text.as_bytes(), format).unwrap()
    }

    #[test]
    fn sniffs_the_delimiter_from_the_header_line() {
        assert_eq!(sniff_delimiter("username,admin\n"), b',');
        assert_eq!(sniff_delimiter("username;admin\nann;1,5\n"), b';');
        assert_eq!(sniff_delimiter("\n\nusername\tadmin\n"), b'\t');
        assert_eq!(sniff_delimiter("a;b;c,d\n"), b';');
        assert_eq!(sniff_delimiter("a;b,c\n"), b',');
        assert_eq!(sniff_delimiter("username\n"), b',');
        assert_eq!(sniff_delimiter(""), b',');
    }

    #[test]
    fn bom_is_ignored_and_rows_are_numbered_like_a_spreadsheet() {
        let grid = read("\u{feff}username;admin\r\nann;yes\r\n\"bo\nb\";no\r\ncy\r\n", Format::Csv);
        assert_eq!(
            cells(&grid),
            vec![
                (1, vec!["username".to_string(), "admin".to_string()]),
                (2, vec!["ann".to_string(), "yes".to_string()]),
                (3, vec!["bo\nb".to_string(), "no".to_string()]),
                (4, vec!["cy".to_string()]),
            ]
        );
    }

    #[test]
    fn blank_lines_keep_their_row_numbers() {
        let grid = read("username\nann\n\nbob\n", Format::Csv);
        let numbers: Vec<usize> = grid.rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![1, 2, 4]);
    }

    #[test]
    fn tsv_uses_tabs_even_when_commas_abound() {
        let grid = read("username\tnote\nann\ta, b, c\n", Format::Tsv);
        assert_eq!(cells(&grid)[1].1, vec!["ann", "a, b, c"]);
    }

    #[test]
    fn refuses_non_utf8_and_workbooks() {
        let error = read_delimited(Path::new("x.csv"), b"username\nj\xf6rg\n", Format::Csv).unwrap_err();
        assert_eq!(
            error.to_string(),
            "roster `x.csv` is not UTF-8 text (first bad byte on line 2); in Excel save it as \
             \"CSV UTF-8\", or save it as .xlsx"
        );
        let error = read_delimited(Path::new("x.csv"), b"PK\x03\x04rest", Format::Csv).unwrap_err();
        assert!(matches!(error, RosterError::NotText { .. }), "{error}");
    }
}
