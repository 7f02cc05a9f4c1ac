use super::*;

fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

#[test]
fn the_shipped_facts_list_thirty_eea_states() {
    let facts = PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap();
    let eea = facts.countries.iter().filter(|basis| basis.basis == TransferBasis::Eea).count();
    assert_eq!(eea, 30);
}

#[test]
fn regions_are_tagged_by_country_not_by_prefix() {
    let facts = PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap();
    let at = instant("2026-06-01T00:00:00Z");
    for (region, eea) in [
        ("eu-central-1", true),
        ("eu-south-2", true),
        ("eu-west-2", false),
        ("eu-central-2", false),
        ("us-east-1", false),
        ("ap-south-1", false),
    ] {
        assert_eq!(facts.region_is_eea(facts.region(region).unwrap(), at), eea, "{region}");
    }
}

#[test]
fn brazil_counts_from_the_decision_date_and_the_uk_until_its_expiry() {
    let facts = PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap();
    assert!(facts.basis_at(country("BR"), instant("2026-01-25T23:59:59Z")).is_none());
    assert!(facts.basis_at(country("BR"), instant("2026-01-26T00:00:00Z")).is_some());
    assert!(facts.basis_at(country("GB"), instant("2031-12-26T12:00:00Z")).is_some());
    assert!(facts.basis_at(country("GB"), instant("2031-12-27T12:00:00Z")).is_none());
    assert!(facts.basis_at(country("AU"), instant("2026-06-01T00:00:00Z")).is_none());
}

#[test]
fn switzerland_the_uk_and_greenland_are_not_eea() {
    let facts = PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap();
    let at = instant("2026-06-01T00:00:00Z");
    for code in ["CH", "GB", "GI", "GL", "FO", "SJ"] {
        assert!(!facts.is_eea_at(country(code), at), "{code}");
    }
    for code in ["EL", "IS", "LI", "NO", "HR"] {
        assert!(facts.is_eea_at(country(code), at), "{code}");
    }
}

#[test]
fn a_facts_document_with_a_bad_entry_names_it() {
    let text = DEFAULT_POLICY_FACTS.replacen("code = \"BE\"", "code = \"XX\"", 1);
    let error = PolicyFacts::parse(&text).unwrap_err();
    assert_eq!(error.location, "countries[1].code");
}

#[test]
fn excluded_categories_fall_back_to_the_standard_plan() {
    let policy = Policy::default_policy();
    assert_eq!(policy.effective_plan(PlanKind::EeaOnly, TicketCategory::CustomApplicationSupport), PlanKind::Standard);
    assert_eq!(policy.effective_plan(PlanKind::EeaOnly, TicketCategory::ProductSupport), PlanKind::EeaOnly);
    assert_eq!(policy.effective_plan(PlanKind::Standard, TicketCategory::ThirdParty), PlanKind::Standard);
}

#[test]
fn plan_settings_read_back_from_their_record_whatever_they_are() {
    for eea_only_holidays in HolidayCalendar::ALL {
        for standard_hours in StandardHours::ALL {
            for standard_holidays in HolidayCalendar::ALL {
                let settings = PlanSettings { eea_only_holidays, standard_hours, standard_holidays };
                assert_eq!(PlanSettings::from_record(&settings.to_record()), Ok(settings));
            }
        }
    }
    assert_eq!(PlanSettings::from_record(""), Ok(PlanSettings::default()), "missing settings keep their defaults");
    let refused = PlanSettings::from_record("standard_hours = weekends\n").unwrap_err();
    assert!(refused.contains("standard_hours = weekends"), "{refused}");
    assert!(PlanSettings::from_record("opening_hours = 24x7").is_err(), "an unknown setting is not skipped");
}
