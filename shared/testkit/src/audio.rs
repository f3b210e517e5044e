//! Test audio: a real Ogg Opus file (what WhatsApp voice notes are), written with the
//! `ogg` crate: the `OpusHead` and `OpusTags` headers (RFC 7845) and 20 ms silent Opus
//! frames (RFC 6716 TOC byte 0xF8: CELT, full band, 20 ms, mono, one frame).

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

/// An Ogg Opus voice note of `seconds` of silence.
pub fn ogg_opus(seconds: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let serial = 0x0a7e_4de5;
    let pre_skip: u16 = 312;
    {
        let mut w = PacketWriter::new(&mut out);
        let mut head = b"OpusHead".to_vec();
        head.push(1); // version
        head.push(1); // channels
        head.extend(pre_skip.to_le_bytes());
        head.extend(48_000u32.to_le_bytes()); // input sample rate
        head.extend(0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family
        w.write_packet(head, serial, PacketWriteEndInfo::EndPage, 0).expect("an in-memory write");
        let vendor = b"atende-testkit";
        let mut tags = b"OpusTags".to_vec();
        tags.extend((vendor.len() as u32).to_le_bytes());
        tags.extend(vendor);
        tags.extend(0u32.to_le_bytes());
        w.write_packet(tags, serial, PacketWriteEndInfo::EndPage, 0).expect("an in-memory write");
        let frames = (seconds.max(1) * 50) as u64;
        for i in 0..frames {
            let granule = u64::from(pre_skip) + (i + 1) * 960;
            let end = if i + 1 == frames {
                PacketWriteEndInfo::EndStream
            } else if i % 50 == 49 {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            w.write_packet(vec![0xF8, 0xFF, 0xFE], serial, end, granule).expect("an in-memory write");
        }
    }
    out
}

/// Whether `bytes` is an Ogg stream whose first packet is an Opus head.
pub fn is_ogg_opus(bytes: &[u8]) -> bool {
    let mut reader = ogg::PacketReader::new(std::io::Cursor::new(bytes));
    matches!(reader.read_packet(), Ok(Some(p)) if p.data.starts_with(b"OpusHead"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_voice_note_reads_back_as_ogg_opus() {
        let file = super::ogg_opus(2);
        assert!(file.starts_with(b"OggS"));
        assert!(super::is_ogg_opus(&file));
        assert!(!super::is_ogg_opus(b"not audio"));
    }
}
