//! HL7 v2.5.1 lab results: ORU^R01 messages from a lab system, one OBR per tube with its OBX
//! observations (SARS-CoV-2 RNA, LOINC 94500-6, and Ct values), answered with an ACK — AA when
//! every tube was recorded (or was a repeat), AE naming each refused tube, AR for a message that
//! cannot be read. The same code serves `POST /api/v1/results/hl7` and the MLLP listener.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use cordon_domain::Barcode;
use cordon_domain::testing::result::{CtValues, TubeResult};
use cordon_store::results::{ResultInput, ResultOutcome};

use cordon_store::scoped::Scoped;

/// LOINC: SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory specimen by NAA with probe detection.
pub const LOINC_SARS_COV_2_RNA: &str = "94500-6";

/// The delimiters a message declares in its MSH segment.
#[derive(Debug, Clone, Copy)]
struct Delimiters {
    field: char,
    component: char,
    repetition: char,
    escape: char,
    subcomponent: char,
}

/// One segment split into fields (index 0 is the segment name; for MSH, index 1 is MSH-2).
#[derive(Debug)]
struct Segment<'a> {
    name: &'a str,
    fields: Vec<&'a str>,
}

/// A parsed message: its segments and delimiters.
#[derive(Debug)]
pub struct Er7<'a> {
    delims: Delimiters,
    segments: Vec<Segment<'a>>,
}

impl<'a> Er7<'a> {
    /// Splits a message into segments (CR, LF or CRLF between them) and fields.
    pub fn parse(text: &'a str) -> Result<Er7<'a>, String> {
        let text = text.trim_start_matches(['\u{feff}', '\u{b}']).trim_end_matches(['\u{1c}', '\r', '\n']);
        if !text.starts_with("MSH") || text.len() < 8 {
            return Err("the message does not start with an MSH segment".into());
        }
        let mut chars = text[3..].chars();
        let field = chars.next().ok_or("MSH has no field separator")?;
        let enc: Vec<char> = chars.take_while(|c| *c != field).collect();
        if enc.len() < 4 {
            return Err("MSH-2 must hold the four encoding characters (^~\\&)".into());
        }
        let delims = Delimiters { field, component: enc[0], repetition: enc[1], escape: enc[2], subcomponent: enc[3] };
        let segments = text
            .split(['\r', '\n'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let fields: Vec<&str> = s.split(field).collect();
                Segment { name: fields[0], fields }
            })
            .collect();
        Ok(Er7 { delims, segments })
    }

    /// Field `n` of a segment (MSH counts its separator as MSH-1).
    fn field<'s>(&self, seg: &'s Segment<'a>, n: usize) -> &'a str {
        let idx = if seg.name == "MSH" { n.saturating_sub(1) } else { n };
        seg.fields.get(idx).copied().unwrap_or("")
    }

    /// Component `c` (1-based) of field `n`, first repetition, unescaped.
    fn component(&self, seg: &Segment<'a>, n: usize, c: usize) -> String {
        let first = self.field(seg, n).split(self.delims.repetition).next().unwrap_or("");
        let comp = first.split(self.delims.component).nth(c - 1).unwrap_or("");
        let sub = comp.split(self.delims.subcomponent).next().unwrap_or("");
        self.unescape(sub)
    }

    fn unescape(&self, s: &str) -> String {
        let e = self.delims.escape;
        if !s.contains(e) {
            return s.to_string();
        }
        let mut out = String::new();
        let mut parts = s.split(e);
        out.push_str(parts.next().unwrap_or(""));
        // Escapes come in pairs of separators: text \X\ text \Y\ text …
        let rest: Vec<&str> = parts.collect();
        let mut i = 0;
        while i < rest.len() {
            if i + 1 < rest.len() {
                match rest[i] {
                    "F" => out.push(self.delims.field),
                    "S" => out.push(self.delims.component),
                    "R" => out.push(self.delims.repetition),
                    "E" => out.push(self.delims.escape),
                    "T" => out.push(self.delims.subcomponent),
                    other => out.push_str(other),
                }
                out.push_str(rest[i + 1]);
                i += 2;
            } else {
                out.push_str(rest[i]);
                i += 1;
            }
        }
        out
    }

    fn msh(&self) -> Option<&Segment<'a>> {
        self.segments.first().filter(|s| s.name == "MSH")
    }
}

/// What the message header says.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    pub message_type: String,
    pub trigger: String,
    pub control_id: String,
    pub processing_id: String,
    pub version: String,
}

/// One tube's result as the message carries it, or why it cannot be read.
#[derive(Debug)]
pub struct TubeLine {
    /// The OBR's set id (OBR-1), or its position.
    pub obr: usize,
    pub barcode: String,
    pub result: Result<ResultInput, String>,
}

/// An ORU^R01 message: its header and one line per OBR.
#[derive(Debug)]
pub struct Oru {
    pub header: Header,
    pub tubes: Vec<TubeLine>,
}

fn header(m: &Er7) -> Result<Header, String> {
    let msh = m.msh().ok_or("no MSH segment")?;
    Ok(Header {
        sending_application: m.component(msh, 3, 1),
        sending_facility: m.component(msh, 4, 1),
        receiving_application: m.component(msh, 5, 1),
        receiving_facility: m.component(msh, 6, 1),
        message_type: m.component(msh, 9, 1),
        trigger: m.component(msh, 9, 2),
        control_id: m.component(msh, 10, 1),
        processing_id: m.component(msh, 11, 1),
        version: m.component(msh, 12, 1),
    })
}

/// HL7 DTM (`YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ]`); without an offset the time is Beijing time.
fn parse_dtm(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    let (main, offset) = match s.find(['+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let main = main.split('.').next().unwrap_or(main);
    let padded = format!("{main:0<14}");
    let naive = NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").map_err(|_| format!("time {s:?} is not an HL7 date/time"))?;
    let seconds = match offset {
        Some(o) if o.len() == 5 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let h: i32 = o[1..3].parse().map_err(|_| format!("time zone {o:?}"))?;
            let m: i32 = o[3..5].parse().map_err(|_| format!("time zone {o:?}"))?;
            sign * (h * 3600 + m * 60)
        }
        Some(o) => return Err(format!("time zone {o:?} is not +HHMM")),
        // A time without a zone is local time.
        None => cordon_domain::local_offset().local_minus_utc(),
    };
    let zone = chrono::FixedOffset::east_opt(seconds).ok_or_else(|| format!("time zone of {s:?}"))?;
    zone.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc)).ok_or_else(|| format!("time {s:?}"))
}

/// The verdict in an OBX-5 of the RNA observation: a SNOMED CT code or a word.
fn verdict(code: &str, text: &str) -> Result<TubeResult, String> {
    match code {
        "260385009" => return Ok(TubeResult::Negative),                    // Negative
        "260415000" => return Ok(TubeResult::Negative),                    // Not detected
        "10828004" | "260373001" => return Ok(TubeResult::Positive),       // Positive / Detected
        "455371000124106" | "125154007" => return Ok(TubeResult::Invalid), // Invalid result / specimen unsatisfactory
        _ => {}
    }
    for word in [code, text] {
        let w = word.trim().to_ascii_lowercase();
        let mapped = match w.as_str() {
            "not detected" | "undetected" | "neg" => Some(TubeResult::Negative),
            "detected" | "pos" => Some(TubeResult::Positive),
            "pooled suspect" | "pooled_suspect" => Some(TubeResult::PooledSuspect),
            _ => word.trim().parse::<TubeResult>().ok(),
        };
        if let Some(r) = mapped {
            return Ok(r);
        }
    }
    Err(format!("OBX-5 {code:?}/{text:?} is not a result (Negative 260385009, Detected 260373001, Invalid, 阴性, 阳性, 混管可疑阳性)"))
}

/// Which Ct target an OBX names, by LOINC code or by its text.
fn ct_target(code: &str, text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    match code {
        "94511-3" => Some("orf1ab"),
        "94510-5" | "94509-7" => Some("n"),
        _ if t.contains("orf1ab") => Some("orf1ab"),
        _ if t.contains("n gene") || text.contains("N基因") => Some("n"),
        _ => None,
    }
}

/// Reads an ORU^R01: the tube of each OBR is its filler order number (OBR-3), else its placer
/// order number (OBR-2); its OBX segments give the verdict (94500-6) and Ct values.
pub fn parse_oru(text: &str) -> Result<Oru, String> {
    let m = Er7::parse(text)?;
    let header = header(&m)?;
    if header.message_type != "ORU" || header.trigger != "R01" {
        return Err(format!("message type {}^{} is not ORU^R01", header.message_type, header.trigger));
    }
    if header.control_id.is_empty() {
        return Err("MSH-10 (message control id) is empty".into());
    }
    struct Open {
        obr: usize,
        barcode: String,
        result: Option<TubeResult>,
        ct: CtValues,
        at: Option<DateTime<Utc>>,
        problem: Option<String>,
    }
    let mut tubes = Vec::new();
    let mut open: Option<Open> = None;
    let close = |o: Open, tubes: &mut Vec<TubeLine>| {
        let result = match (o.problem, Barcode::parse(&o.barcode)) {
            (_, Err(e)) => Err(format!("tube barcode {:?}: {e}", o.barcode)),
            (Some(p), _) => Err(p),
            (None, Ok(_)) if o.result.is_none() && o.ct.orf1ab.is_none() && o.ct.n.is_none() => {
                Err(format!("no OBX with {LOINC_SARS_COV_2_RNA} or a Ct value"))
            }
            (None, Ok(barcode)) => Ok(ResultInput { barcode, round_id: None, result: o.result, ct: o.ct, at: o.at }),
        };
        tubes.push(TubeLine { obr: o.obr, barcode: o.barcode, result });
    };
    for seg in &m.segments {
        match seg.name {
            "OBR" => {
                if let Some(o) = open.take() {
                    close(o, &mut tubes);
                }
                let filler = m.component(seg, 3, 1);
                let barcode = if filler.is_empty() { m.component(seg, 2, 1) } else { filler };
                let obr = m.component(seg, 1, 1).parse().unwrap_or(tubes.len() + 1);
                let at = match m.component(seg, 7, 1) {
                    s if s.is_empty() => Ok(None),
                    s => parse_dtm(&s).map(Some),
                };
                let (at, problem) = match at {
                    Ok(at) => (at, None),
                    Err(e) => (None, Some(format!("OBR-7: {e}"))),
                };
                open = Some(Open { obr, barcode, result: None, ct: CtValues::default(), at, problem });
            }
            "OBX" => {
                let Some(o) = open.as_mut() else { continue };
                if o.problem.is_some() {
                    continue;
                }
                let (code, text) = (m.component(seg, 3, 1), m.component(seg, 3, 2));
                if code == LOINC_SARS_COV_2_RNA {
                    match verdict(&m.component(seg, 5, 1), &m.component(seg, 5, 2)) {
                        Ok(r) => o.result = Some(r),
                        Err(e) => o.problem = Some(e),
                    }
                    match m.component(seg, 14, 1) {
                        s if s.is_empty() => {}
                        s => match parse_dtm(&s) {
                            Ok(t) => o.at = Some(t),
                            Err(e) => o.problem = Some(format!("OBX-14: {e}")),
                        },
                    }
                } else if let Some(target) = ct_target(&code, &text) {
                    let raw = m.component(seg, 5, 1);
                    if raw.trim().is_empty() {
                        continue;
                    }
                    match raw.trim().parse::<f32>() {
                        Ok(v) if target == "orf1ab" => o.ct.orf1ab = Some(v),
                        Ok(v) => o.ct.n = Some(v),
                        Err(_) => o.problem = Some(format!("Ct value {raw:?} ({code}) is not a number")),
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(o) = open.take() {
        close(o, &mut tubes);
    }
    if tubes.is_empty() {
        return Err("the message has no OBR segment (one OBR per tube)".into());
    }
    Ok(Oru { header, tubes })
}

/// The header of a message, as much of it as can be read (empty when none can).
pub fn header_of(text: &str) -> Header {
    Er7::parse(text).ok().and_then(|m| header(&m).ok()).unwrap_or_default()
}

/// Decodes a message's bytes: UTF-8 when valid, else GB18030 (what Chinese lab systems send).
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\E\\"),
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '&' => out.push_str("\\T\\"),
            '~' => out.push_str("\\R\\"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An ACK for `header` (which may be empty when the message could not be read).
pub fn ack(header: &Header, code: &str, text: &str, errors: &[String]) -> String {
    let now = Utc::now().with_timezone(&cordon_domain::local_offset());
    let control = format!("ACK{}", now.format("%Y%m%d%H%M%S%3f"));
    let version = if header.version.is_empty() { "2.5.1" } else { header.version.as_str() };
    let processing = if header.processing_id.is_empty() { "P" } else { header.processing_id.as_str() };
    let mut out = format!(
        "MSH|^~\\&|{}|{}|{}|{}|{}||ACK^{}^ACK|{}|{}|{}\rMSA|{}|{}",
        if header.receiving_application.is_empty() { "CORDON".to_string() } else { escape(&header.receiving_application) },
        escape(&header.receiving_facility),
        escape(&header.sending_application),
        escape(&header.sending_facility),
        now.format("%Y%m%d%H%M%S%z"),
        if header.trigger.is_empty() { "R01" } else { header.trigger.as_str() },
        control,
        processing,
        version,
        code,
        escape(&header.control_id),
    );
    if !text.is_empty() {
        out.push('|');
        out.push_str(&escape(text));
    }
    out.push('\r');
    for e in errors {
        // ERR-3 207 = application internal error is too vague; 103 = table value not found fits
        // "no such tube"; we send the generic application error with the reason in ERR-8.
        out.push_str(&format!("ERR|||207^Application error^HL70357|E||||{}\r", escape(e)));
    }
    out
}

/// Records every tube of an ORU^R01 as `scope`'s lab `lab` (or the lab named in MSH-4) and
/// answers the ACK. Nothing read from the message is dropped silently: each refused tube is
/// named in an ERR segment of an AE.
pub async fn receive(scope: &Scoped, bytes: &[u8], lab: Option<i64>) -> String {
    let text = decode(bytes);
    let oru = match parse_oru(&text) {
        Ok(o) => o,
        Err(reason) => return ack(&header_of(&text), "AR", &reason, &[]),
    };
    let lab_id = match lab {
        Some(id) => Some(id),
        None => match scope.labs().await {
            Ok(labs) => labs
                .into_iter()
                .find(|l| l.name == oru.header.sending_facility || l.id.to_string() == oru.header.sending_facility)
                .map(|l| l.id),
            Err(e) => return ack(&oru.header, "AR", &e.to_string(), &[]),
        },
    };
    let Some(lab_id) = lab_id else {
        let reason = format!("MSH-4 {:?} names no lab known to Cordon (give its name or id)", oru.header.sending_facility);
        return ack(&oru.header, "AR", &reason, &[]);
    };
    // The readable tubes of the message in one transaction; the unreadable ones refused.
    let inputs: Vec<ResultInput> = oru.tubes.iter().filter_map(|t| t.result.as_ref().ok().cloned()).collect();
    let mut recorded_outcomes = match scope.record_results(lab_id, &inputs).await {
        Ok(o) => o.into_iter(),
        Err(e) => return ack(&oru.header, "AR", &e.to_string(), &[]),
    };
    let mut errors = Vec::new();
    let mut recorded = 0;
    for tube in &oru.tubes {
        let outcome = match &tube.result {
            Ok(_) => recorded_outcomes.next().unwrap_or_else(|| ResultOutcome::unreadable("not recorded")),
            Err(reason) => ResultOutcome::unreadable(reason),
        };
        match outcome {
            ResultOutcome::Refused { refusal } => {
                errors.push(format!("OBR {} tube {}: {}", tube.obr, tube.barcode, crate::i18n::in_english(&refusal)))
            }
            _ => recorded += 1,
        }
    }
    if errors.is_empty() {
        ack(&oru.header, "AA", &format!("{recorded} tube(s) recorded"), &[])
    } else {
        ack(&oru.header, "AE", &format!("{recorded} tube(s) recorded, {} refused", errors.len()), &errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any text, and any bytes as a lab system's encoding: parsing answers a message or a
        /// reason, and never panics.
        #[test]
        fn any_input_parses_or_is_refused_with_a_reason(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)) {
            let text = decode(&bytes);
            if let Err(reason) = parse_oru(&text) {
                proptest::prop_assert!(!reason.is_empty());
            }
            let mut with_header = b"MSH|^~\\&|".to_vec();
            with_header.extend(&bytes);
            if let Err(reason) = parse_oru(&decode(&with_header)) {
                proptest::prop_assert!(!reason.is_empty());
            }
        }
    }

    const ORU: &str = "MSH|^~\\&|LIS|清徐县疾控实验室|CORDON|HQ|20220413230500+0800||ORU^R01^ORU_R01|M0001|P|2.5.1\r\
        OBR|1||QX00000001|94500-6^SARS-CoV-2 RNA^LN|||20220413190000\r\
        OBX|1|CWE|94500-6^SARS-CoV-2 RNA NAA+probe^LN||260385009^Negative^SCT||||||F|||20220413225900\r\
        OBR|2||QX00000002|94500-6^SARS-CoV-2 RNA^LN\r\
        OBX|1|NM|94511-3^ORF1ab Ct^LN||28.4|{Ct}|||||F\r\
        OBX|2|NM|94510-5^N gene Ct^LN||30.1|{Ct}|||||F\r\
        OBR|3||bad barcode!|94500-6^SARS-CoV-2 RNA^LN\r\
        OBX|1|CWE|94500-6^SARS-CoV-2 RNA^LN||maybe||||||F\r";

    #[test]
    fn an_oru_gives_one_line_per_tube_with_verdicts_ct_values_and_times() {
        let oru = parse_oru(ORU).unwrap();
        assert_eq!((oru.header.control_id.as_str(), oru.header.sending_facility.as_str()), ("M0001", "清徐县疾控实验室"));
        assert_eq!(oru.tubes.len(), 3);
        let first = oru.tubes[0].result.as_ref().unwrap();
        assert_eq!(first.result, Some(TubeResult::Negative));
        assert_eq!(first.at.unwrap().to_rfc3339(), "2022-04-13T14:59:00+00:00", "Beijing time without an offset");
        let second = oru.tubes[1].result.as_ref().unwrap();
        assert_eq!((second.result, second.ct.orf1ab, second.ct.n), (None, Some(28.4), Some(30.1)));
        assert!(oru.tubes[2].result.as_ref().unwrap_err().contains("barcode"));
    }

    #[test]
    fn a_message_that_is_not_an_oru_is_refused_with_the_reason() {
        assert!(parse_oru("PID|1").unwrap_err().contains("MSH"));
        let adt = "MSH|^~\\&|A|B|C|D|20220413||ADT^A01|X1|P|2.5.1\rPID|1";
        assert!(parse_oru(adt).unwrap_err().contains("not ORU^R01"));
    }

    #[test]
    fn escapes_and_acks_round_trip() {
        let m = Er7::parse("MSH|^~\\&|A\\F\\B|X|Y|Z|20220413||ORU^R01|C1|P|2.5.1").unwrap();
        let h = header(&m).unwrap();
        assert_eq!(h.sending_application, "A|B");
        let a = ack(&h, "AE", "1 refused", &["OBR 3 tube X: unknown barcode".into()]);
        assert!(a.starts_with("MSH|^~\\&|Y|Z|A\\F\\B|X|"), "{a}");
        assert!(a.contains("\rMSA|AE|C1|1 refused\r") && a.contains("ERR|||207^"), "{a}");
    }

    #[test]
    fn dtm_offsets_are_honoured() {
        assert_eq!(parse_dtm("202204131900-0500").unwrap().to_rfc3339(), "2022-04-14T00:00:00+00:00");
        assert_eq!(parse_dtm("20220413").unwrap().to_rfc3339(), "2022-04-12T16:00:00+00:00");
        assert!(parse_dtm("2022-04-13").is_err());
    }
}
