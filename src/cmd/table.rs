//! Plain-text tables for the CLI's list views: each column as wide as its widest cell, so long
//! names never push the next column out of line.

/// A table with a header row.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|h| h.to_string()).collect()],
        }
    }

    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().collect());
    }

    /// The table as text, one line per row, columns separated by two spaces.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let pad = widths[c] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn columns_fit_their_widest_cell() {
        let mut t = Table::new(&["ID", "NAME", "REV"]);
        t.row([
            "pkg-1".into(),
            "a_very_long_package_name".into(),
            "3".into(),
        ]);
        t.row(["pkg-22".into(), "short".into(), "".into()]);
        assert_eq!(
            t.render(),
            "ID      NAME                      REV\n\
             pkg-1   a_very_long_package_name  3\n\
             pkg-22  short\n"
        );
    }

    #[test]
    fn non_ascii_cells_are_counted_in_characters() {
        let mut t = Table::new(&["A", "B"]);
        t.row(["é".into(), "x".into()]);
        assert_eq!(t.render(), "A  B\né  x\n");
    }
}
