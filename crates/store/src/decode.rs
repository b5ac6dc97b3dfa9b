//! Text encoding of uploaded files: UTF-8 (with or without BOM), GBK/GB18030, which is what
//! Excel in China saves, or UTF-16 with its BOM (Excel's "Unicode text"). Detected from the
//! bytes, decoded while streaming.

use std::io::{self, Cursor, Read};

/// The encoding a file was found to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TextEncoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "GB18030")]
    Gb18030,
    #[serde(rename = "UTF-16")]
    Utf16,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::Utf16 => "UTF-16",
        }
    }
}

const MIN_SAMPLE: usize = 64 * 1024;
const MAX_SAMPLE: usize = 4 * 1024 * 1024;

/// Looks at the start of `input` (reading until it holds non-ASCII text, 4 MiB, or the end),
/// decides its encoding, and returns a reader of UTF-8 text without BOM.
pub fn utf8_reader<R: Read + Send + 'static>(input: R) -> io::Result<(TextEncoding, Box<dyn Read + Send>)> {
    utf8_text(input).map(|t| (t.encoding, t.reader))
}

/// A text file as UTF-8, with what its start says about it.
pub struct Text {
    pub encoding: TextEncoding,
    /// Lines end with CRLF (what Excel on Windows saves), as far as the first line shows.
    pub crlf: bool,
    pub reader: Box<dyn Read + Send>,
}

/// Like [`utf8_reader`], also telling whether lines end with CRLF.
pub fn utf8_text<R: Read + Send + 'static>(input: R) -> io::Result<Text> {
    detect(Box::new(input))
}

fn detect(mut input: Box<dyn Read + Send>) -> io::Result<Text> {
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
    // UTF-16 (little- or big-endian, told by its BOM): decoded to UTF-8 as it is read.
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        let crlf = sample.windows(4).any(|w| w == b"\r\0\n\0" || w == b"\0\r\0\n");
        let decoded =
            encoding_rs_io::DecodeReaderBytesBuilder::new().bom_sniffing(true).strip_bom(true).build(Cursor::new(sample).chain(input));
        return Ok(Text { encoding: TextEncoding::Utf16, crlf, reader: Box::new(decoded) });
    }
    // Old Mac files end lines with CR alone: read as LF, so that rows and line numbers come out
    // as an editor shows them.
    if !sample.contains(&b'\n') && sample.contains(&b'\r') {
        return detect(Box::new(CrAsLf(Cursor::new(sample).chain(input))));
    }
    // CR and LF are the same bytes in UTF-8 and GB18030.
    let crlf = sample.iter().position(|b| *b == b'\n').is_some_and(|i| i > 0 && sample[i - 1] == b'\r');
    if let Some(rest) = sample.strip_prefix(b"\xEF\xBB\xBF") {
        let rest = rest.to_vec();
        return Ok(Text { encoding: TextEncoding::Utf8, crlf, reader: Box::new(Cursor::new(rest).chain(input)) });
    }
    let utf8 = match std::str::from_utf8(&sample) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    let stream = Cursor::new(sample).chain(input);
    if utf8 {
        return Ok(Text { encoding: TextEncoding::Utf8, crlf, reader: Box::new(stream) });
    }
    // GB18030 is a superset of GBK and GB2312; decoded to UTF-8 as it is read, line by line.
    let decoded = GbLines { input: io::BufReader::with_capacity(64 * 1024, stream), line: Vec::new(), out: Vec::new(), at: 0 };
    Ok(Text { encoding: TextEncoding::Gb18030, crlf, reader: Box::new(decoded) })
}

/// Marks a line that is not in the file's encoding: no UTF-8 text holds this byte, so the CSV
/// reader refuses the record that holds the line (`row.encoding`) and goes on with the next.
const NOT_IN_ENCODING: u8 = 0xFF;

/// A GB18030 file decoded to UTF-8 a line at a time (no GB18030 character holds a line feed).
/// A line that does not decode cleanly, or that is UTF-8 text (rows pasted in from a file saved
/// as UTF-8), is passed on marked with [`NOT_IN_ENCODING`] instead of as mojibake.
struct GbLines<R> {
    input: io::BufReader<R>,
    line: Vec<u8>,
    out: Vec<u8>,
    at: usize,
}

/// A line that is UTF-8 in a GB18030 file: valid UTF-8 holding a character of three bytes or
/// more (Chinese in UTF-8). A GBK line is very seldom valid UTF-8 at all, and when it is, its
/// characters read as two-byte ones (Latin, Greek, Cyrillic).
fn utf8_line(line: &[u8]) -> bool {
    !line.is_ascii() && std::str::from_utf8(line).is_ok_and(|s| s.chars().any(|c| c.len_utf8() >= 3))
}

impl<R: Read> Read for GbLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use io::BufRead;
        if self.at == self.out.len() {
            self.line.clear();
            self.out.clear();
            self.at = 0;
            if self.input.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(0);
            }
            let clean = match self.line.is_ascii() {
                true => None,
                false if utf8_line(&self.line) => Some(None),
                false => Some(encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(&self.line)),
            };
            match clean {
                None => self.out.extend_from_slice(&self.line),
                Some(Some(text)) => self.out.extend_from_slice(text.as_bytes()),
                Some(None) => {
                    self.out.push(NOT_IN_ENCODING);
                    self.out.extend_from_slice(&self.line);
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader of a file whose lines end with CR alone, giving LF instead.
struct CrAsLf<R>(R);

impl<R: Read> Read for CrAsLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        buf[..n].iter_mut().filter(|b| **b == b'\r').for_each(|b| *b = b'\n');
        Ok(n)
    }
}

/// The line a person sees a CSV record on in their editor. The csv crate numbers the records of
/// a CRLF file one line early (the `\n` ending a line is counted only as the next record is
/// read), so such a file's lines are moved one on; `fallback` when there is no position.
pub fn seen_line(position: Option<&csv::Position>, crlf: bool, fallback: u64) -> u64 {
    position.map(|p| p.line() + u64::from(crlf)).unwrap_or(fallback)
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

    /// The lines the records of `bytes` are seen on, as the imports report them.
    fn record_lines(bytes: Vec<u8>) -> Vec<u64> {
        let text = utf8_text(Cursor::new(bytes)).unwrap();
        let crlf = text.crlf;
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text.reader);
        csv.records().map(|r| seen_line(r.unwrap().position(), crlf, 0)).collect()
    }

    #[test]
    fn records_are_numbered_as_an_editor_shows_them_whatever_the_line_endings_and_encoding() {
        // Line 1 the header, line 2 a record, lines 3–4 a record with a quoted line break.
        let lf = "身份证号,姓名,住址\n11010519491231002X,王秀英,东街\n11010519491231003X,李四,\"东街\n2号\"\n";
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(record_lines(lf.as_bytes().to_vec()), [2, 3], "LF");
        assert_eq!(record_lines(crlf.as_bytes().to_vec()), [2, 3], "CRLF");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(crlf.as_bytes());
        assert_eq!(record_lines(bom), [2, 3], "UTF-8 with BOM, CRLF");
        let (gbk, _, _) = encoding_rs::GBK.encode(&crlf);
        assert_eq!(record_lines(gbk.into_owned()), [2, 3], "GBK, CRLF");
        let (gbk, _, _) = encoding_rs::GBK.encode(lf);
        assert_eq!(record_lines(gbk.into_owned()), [2, 3], "GBK, LF");
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
    fn lines_not_in_the_files_encoding_are_marked_not_garbled() {
        let mut bytes = encoding_rs::GBK.encode("姓名,住址\n王秀英,东关村\n").0.into_owned();
        bytes.extend_from_slice("刘德华,西街\n".as_bytes());
        bytes.extend_from_slice(b"\xD5\xC5\x81\n");
        bytes.extend_from_slice(&encoding_rs::GBK.encode("张三,南村\n").0);
        let mut out = Vec::new();
        let text = utf8_text(Cursor::new(bytes)).unwrap();
        assert_eq!(text.encoding, TextEncoding::Gb18030);
        text.reader.take(1 << 20).read_to_end(&mut out).unwrap();
        let lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
        assert_eq!(lines[0], "姓名,住址".as_bytes());
        assert_eq!(lines[1], "王秀英,东关村".as_bytes());
        assert_eq!(lines[2][0], NOT_IN_ENCODING, "a UTF-8 line");
        assert_eq!(&lines[2][1..], "刘德华,西街".as_bytes(), "kept as it was, not decoded as GBK");
        assert_eq!(lines[3][0], NOT_IN_ENCODING, "a broken GBK character");
        assert_eq!(lines[4], "张三,南村".as_bytes());
    }

    #[test]
    fn gbk_after_a_long_ascii_start_is_still_found() {
        let text = format!("{}王秀英\n", "a,b,c\n".repeat(30_000));
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert_eq!(decode(gbk.into_owned()).0, TextEncoding::Gb18030);
    }
}
