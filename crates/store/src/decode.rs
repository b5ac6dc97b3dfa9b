//! Text encoding of uploaded files: UTF-8 (with or without BOM) or GBK/GB18030, which is what
//! Excel in China saves. Detected from the bytes, decoded while streaming.

use std::io::{self, Cursor, Read};

/// The encoding a file was found to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TextEncoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "GB18030")]
    Gb18030,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gb18030 => "GB18030",
        }
    }
}

const MIN_SAMPLE: usize = 64 * 1024;
const MAX_SAMPLE: usize = 4 * 1024 * 1024;

/// Looks at the start of `input` (reading until it holds non-ASCII text, 4 MiB, or the end),
/// decides its encoding, and returns a reader of UTF-8 text without BOM.
pub fn utf8_reader<R: Read + Send + 'static>(mut input: R) -> io::Result<(TextEncoding, Box<dyn Read + Send>)> {
    let mut sample = Vec::with_capacity(MIN_SAMPLE);
    let mut chunk = vec![0u8; MIN_SAMPLE];
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        sample.extend_from_slice(&chunk[..n]);
        let has_non_ascii = !sample.is_ascii();
        if (has_non_ascii && sample.len() >= MIN_SAMPLE) || sample.len() >= MAX_SAMPLE {
            break;
        }
    }
    if let Some(rest) = sample.strip_prefix(b"\xEF\xBB\xBF") {
        let rest = rest.to_vec();
        return Ok((TextEncoding::Utf8, Box::new(Cursor::new(rest).chain(input))));
    }
    let utf8 = match std::str::from_utf8(&sample) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    let stream = Cursor::new(sample).chain(input);
    if utf8 {
        return Ok((TextEncoding::Utf8, Box::new(stream)));
    }
    // GB18030 is a superset of GBK and GB2312; decoded to UTF-8 as it is read.
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding_rs::GB18030))
        .build_with_buffer(stream, vec![0; 64 * 1024])?;
    Ok((TextEncoding::Gb18030, Box::new(decoded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: Vec<u8>) -> (TextEncoding, String) {
        let (enc, mut r) = utf8_reader(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (enc, s)
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let text = "身份证号,姓名\n11010519491231002X,王秀英\n";
        assert_eq!(decode(text.as_bytes().to_vec()), (TextEncoding::Utf8, text.to_string()));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(bom), (TextEncoding::Utf8, text.to_string()));
    }

    #[test]
    fn gbk_is_detected_and_decoded_across_buffer_boundaries() {
        let text = format!("{}\n", "姓名,住址,清徐县徐沟镇东街".repeat(20_000));
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert_eq!(decode(gbk.into_owned()), (TextEncoding::Gb18030, text));
    }

    #[test]
    fn gbk_after_a_long_ascii_start_is_still_found() {
        let text = format!("{}王秀英\n", "a,b,c\n".repeat(30_000));
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert_eq!(decode(gbk.into_owned()).0, TextEncoding::Gb18030);
    }
}
