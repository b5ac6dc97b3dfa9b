//! Column headers as people write them in the files they bring (Excel exports, lab systems,
//! other provinces' line lists): one header may be spelled several ways, in Chinese or English,
//! with stray spaces, a byte-order mark or capitals. Every importer finds its columns here.

/// A header as compared: trimmed, without a byte-order mark, in lower case.
/// How many whole rows of a file a field swallowed: the lines after its first that hold as many
/// separators as a row of `columns` fields does. An unclosed quote (`"东街1号,`) makes the csv
/// reader read everything up to the next quote, or the end of the file, as one field; a quoted
/// address with a line break in it swallows nothing.
pub fn swallowed_rows(field: &str, columns: usize) -> usize {
    if columns < 2 {
        return 0;
    }
    field.lines().skip(1).filter(|line| line.matches(',').count() + 1 >= columns).count()
}

pub fn normalize(header: &str) -> String {
    header.trim().trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// The position of the first header spelled as one of `aliases` (given in lower case).
pub fn position<'a>(headers: impl IntoIterator<Item = &'a str>, aliases: &[&str]) -> Option<usize> {
    headers.into_iter().position(|h| aliases.contains(&normalize(h).as_str()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unclosed_quote_is_told_by_the_rows_it_swallowed() {
        assert_eq!(super::swallowed_rows("东街1号\n2单元", 6), 0, "a quoted address with a line break");
        assert_eq!(super::swallowed_rows("王秀英,138\n110,李四,139,1401,东街,\n111,张三,137,1401,西街,\n", 6), 2);
        assert_eq!(super::swallowed_rows("a\nb,c", 1), 0);
    }

    use super::*;

    #[test]
    fn a_header_is_found_whatever_its_spelling_spaces_bom_or_case() {
        let headers = ["\u{feff}身份证号", " Venue_Code ", "扫码时间"];
        assert_eq!(position(headers, &["id_number", "身份证号"]), Some(0));
        assert_eq!(position(headers, &["venue_code", "场所码"]), Some(1));
        assert_eq!(position(headers, &["left_at", "离开时间"]), None);
    }
}
