//! Column headers as people write them in the files they bring (Excel exports, lab systems,
//! other provinces' line lists): one header may be spelled several ways, in Chinese or English,
//! with stray spaces, a byte-order mark or capitals. Every importer finds its columns here.

/// A header as compared: trimmed, without a byte-order mark, in lower case.
pub fn normalize(header: &str) -> String {
    header.trim().trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// The position of the first header spelled as one of `aliases` (given in lower case).
pub fn position<'a>(headers: impl IntoIterator<Item = &'a str>, aliases: &[&str]) -> Option<usize> {
    headers.into_iter().position(|h| aliases.contains(&normalize(h).as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_found_whatever_its_spelling_spaces_bom_or_case() {
        let headers = ["\u{feff}身份证号", " Venue_Code ", "扫码时间"];
        assert_eq!(position(headers, &["id_number", "身份证号"]), Some(0));
        assert_eq!(position(headers, &["venue_code", "场所码"]), Some(1));
        assert_eq!(position(headers, &["left_at", "离开时间"]), None);
    }
}
