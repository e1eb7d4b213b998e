//! Reading what the market-data server sends: one WebSocket binary message is one frame, read
//! without trusting its length prefix; anything malformed or cut is an error value, and a data
//! frame cut mid-way keeps the entries before the cut (as the SDK does).

use super::hsm::{
    Entry, TYPE_AUTH, TYPE_CUSTOM, TYPE_DATA, TYPE_MODE, TYPE_PAUSE, TYPE_RESUME, TYPE_SUBSCRIBE,
    TYPE_UNSUBSCRIBE,
};

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsmError {
    #[error("market data: a frame of {0} bytes is too short for a header")]
    TooShort(usize),
    #[error("market data: frame type {kind} ends early at byte {at} of {len}")]
    Truncated { kind: u8, at: usize, len: usize },
    #[error("market data: unknown data entry kind {0:#04x}")]
    UnknownEntry(u8),
}

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// The answer to auth: success is the status `K`. `ack_count` 0 or absent: no acks.
    Auth { ok: bool, ack_count: Option<u32> },
    /// The answer to a subscribe, unsubscribe, mode, pause or resume request (its type).
    Reply { kind: u8, ok: bool },
    /// Market data: the entries read in order, and why reading stopped early if it did (the
    /// entries before the fault are kept, as the SDK keeps them).
    Data {
        number: u32,
        entries: Vec<Entry>,
        fault: Option<HsmError>,
    },
    /// A message from the server about a request (`ref_type`), e.g. code 51001, the plan's limit.
    Custom {
        code: i32,
        message: String,
        ref_type: u8,
    },
    /// Anything else (pings, unknown types): ignored, as the SDK ignores them.
    Other(u8),
}

/// A cursor over a frame that turns running out of bytes into an error.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    kind: u8,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], HsmError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(HsmError::Truncated {
                kind: self.kind,
                at: self.at,
                len: self.bytes.len(),
            });
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, HsmError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, HsmError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, HsmError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Result<i32, HsmError> {
        Ok(self.u32()? as i32)
    }

    fn id(&mut self) -> Result<[u8; 2], HsmError> {
        let b = self.take(2)?;
        Ok([b[0], b[1]])
    }

    fn short_string(&mut self) -> Result<String, HsmError> {
        let len = usize::from(self.u8()?);
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }

    fn values(&mut self) -> Result<Vec<i32>, HsmError> {
        let count = usize::from(self.u8()?);
        (0..count).map(|_| self.i32()).collect()
    }

    /// `count` fields of (u8 id, u16 length, value).
    fn fields(&mut self) -> Result<Vec<(u8, &'a [u8])>, HsmError> {
        let count = self.u8()?;
        let mut fields = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let id = self.u8()?;
            let len = usize::from(self.u16()?);
            fields.push((id, self.take(len)?));
        }
        Ok(fields)
    }
}

/// Reads one server frame (one WebSocket binary message).
pub fn parse(bytes: &[u8]) -> Result<ServerFrame, HsmError> {
    if bytes.len() < 3 {
        return Err(HsmError::TooShort(bytes.len()));
    }
    let kind = bytes[2];
    let mut reader = Reader { bytes, at: 3, kind };
    match kind {
        TYPE_AUTH => {
            let fields = reader.fields()?;
            let ok = fields.first().is_some_and(|(_, status)| *status == b"K");
            let ack_count = fields
                .get(1)
                .filter(|(_, value)| value.len() == 4)
                .map(|(_, value)| u32::from_be_bytes([value[0], value[1], value[2], value[3]]));
            Ok(ServerFrame::Auth { ok, ack_count })
        }
        TYPE_SUBSCRIBE | TYPE_UNSUBSCRIBE | TYPE_PAUSE | TYPE_RESUME | TYPE_MODE => {
            let fields = reader.fields()?;
            let ok = fields.first().is_some_and(|(_, status)| *status == b"K");
            Ok(ServerFrame::Reply { kind, ok })
        }
        TYPE_CUSTOM => {
            let (mut code, mut message, mut ref_type) = (0, String::new(), 0);
            for (id, value) in reader.fields()? {
                match (id, value.len()) {
                    (1, 4) => code = i32::from_be_bytes([value[0], value[1], value[2], value[3]]),
                    (2, _) => message = String::from_utf8_lossy(value).into_owned(),
                    (3, 1) => ref_type = value[0],
                    _ => {}
                }
            }
            Ok(ServerFrame::Custom {
                code,
                message,
                ref_type,
            })
        }
        TYPE_DATA => {
            let number = reader.u32()?;
            let count = reader.u16()?;
            let mut entries = Vec::with_capacity(usize::from(count).min(bytes.len() / 7));
            let mut fault = None;
            for _ in 0..count {
                match entry(&mut reader) {
                    Ok(entry) => entries.push(entry),
                    Err(err) => {
                        fault = Some(err);
                        break;
                    }
                }
            }
            Ok(ServerFrame::Data {
                number,
                entries,
                fault,
            })
        }
        other => Ok(ServerFrame::Other(other)),
    }
}

fn entry(reader: &mut Reader<'_>) -> Result<Entry, HsmError> {
    match reader.u8()? {
        b'S' => {
            let topic_id = reader.id()?;
            let topic = reader.short_string()?;
            let values = reader.values()?;
            reader.take(2)?;
            let multiplier = reader.u16()?;
            let precision = reader.u8()?;
            let exchange = reader.short_string()?;
            let token = reader.short_string()?;
            let symbol = reader.short_string()?;
            Ok(Entry::Snapshot {
                topic_id,
                topic,
                values,
                multiplier,
                precision,
                exchange,
                token,
                symbol,
            })
        }
        b'U' => Ok(Entry::Update {
            topic_id: reader.id()?,
            values: reader.values()?,
        }),
        b'L' => Ok(Entry::Ltp {
            topic_id: reader.id()?,
            ltp: reader.i32()?,
        }),
        other => Err(HsmError::UnknownEntry(other)),
    }
}
