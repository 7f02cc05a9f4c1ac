//! ISO 3166-1 alpha-2 country codes, with the EU's own spellings accepted as aliases.

use std::fmt;

/// Every officially assigned ISO 3166-1 alpha-2 code.
const ASSIGNED_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO \
DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM \
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR \
LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL \
NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ \
SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA \
VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Codes that EU documents use in place of the ISO ones: Greece and the United Kingdom.
pub const COUNTRY_ALIASES: [(&str, &str); 2] = [("EL", "GR"), ("UK", "GB")];

/// A validated ISO 3166-1 alpha-2 code, stored upper-case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

/// The text is not an assigned ISO 3166-1 alpha-2 code (nor one of the accepted aliases).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown country code {code:?}: expected an ISO 3166-1 alpha-2 code such as \"DE\"")]
pub struct UnknownCountry {
    pub code: String,
}

impl Country {
    /// Parses a code case-insensitively; `EL` and `UK` become `GR` and `GB`.
    pub fn parse(code: &str) -> Result<Country, UnknownCountry> {
        let unknown = || UnknownCountry { code: code.to_owned() };
        let upper = code.trim().to_ascii_uppercase();
        let canonical =
            COUNTRY_ALIASES.iter().find(|(alias, _)| *alias == upper).map_or(upper.as_str(), |(_, iso)| iso);
        let bytes = canonical.as_bytes();
        if bytes.len() != 2 || !ASSIGNED_CODES.split(' ').any(|assigned| assigned == canonical) {
            return Err(unknown());
        }
        Ok(Country([bytes[0], bytes[1]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("country codes are ASCII")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_spellings_are_stored_as_iso_codes() {
        assert_eq!(Country::parse("EL").unwrap().as_str(), "GR");
        assert_eq!(Country::parse("uk").unwrap().as_str(), "GB");
        assert_eq!(Country::parse("de").unwrap().as_str(), "DE");
    }

    #[test]
    fn unassigned_or_malformed_codes_are_rejected() {
        for code in ["", "D", "DEU", "XX", "ZZ", "EU", "1A"] {
            assert!(Country::parse(code).is_err(), "{code:?} was accepted");
        }
    }

    #[test]
    fn the_list_has_every_assigned_code_once() {
        let codes: Vec<&str> = ASSIGNED_CODES.split(' ').collect();
        let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(codes.len(), 249);
        assert_eq!(unique.len(), codes.len());
    }
}
