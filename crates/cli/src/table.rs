//! Plain-text tables for terminal output: a header row, columns padded to their widest cell,
//! numbers right-aligned.

/// A table being built.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; `right[i]` aligns column `i` to the right (numbers).
    pub fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            headers: columns.iter().map(|c| c.0).collect(),
            right: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let cell = |row: &[String], i: usize| row.get(i).map_or(0, |c| c.chars().count());
        let widths: Vec<usize> = (0..n)
            .map(|i| {
                self.rows.iter().map(|r| cell(r, i)).max().unwrap_or(0).max(self.headers[i].len())
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if self.right[i] {
                        format!("{c:>w$}", w = widths[i])
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string()
        };
        let mut out = vec![line(self.headers.clone())];
        for r in &self.rows {
            out.push(line((0..n).map(|i| r.get(i).map_or("", String::as_str)).collect()));
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&[("MARKET", false), ("SIZE", true)]);
        t.row(vec!["BTC-PERP".into(), "0.010".into()]);
        t.row(vec!["ETH".into(), "12.500".into()]);
        assert_eq!(t.render(), "MARKET      SIZE\nBTC-PERP   0.010\nETH       12.500");
    }
}
