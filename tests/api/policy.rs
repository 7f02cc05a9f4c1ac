//! PolicyService round trips: orgs, consents, the policy in force.

use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{agent, consent, org, spawn_app, timestamp, violated_fields, Backend};

type PolicyClient = pb::policy_service_client::PolicyServiceClient<crate::helpers::AuthChannel>;

async fn orgs_round_trip_with_pagination(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut policy = spawned.app.policy.clone();
    for (org_id, region) in [("org-a", "eu-central-1"), ("org-b", "eu-west-2"), ("org-c", "us-east-1")] {
        let stored = policy
            .upsert_org(pb::UpsertOrgRequest { org: Some(org(org_id, region, pb::Plan::Standard)) })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stored.org_id, org_id);
    }
    let frankfurt = policy.get_org(pb::GetOrgRequest { org_id: "org-a".into() }).await.unwrap().into_inner();
    assert!(frankfurt.eea_tagged);
    assert_eq!(frankfurt.region_country, "DE");
    let london = policy.get_org(pb::GetOrgRequest { org_id: "org-b".into() }).await.unwrap().into_inner();
    assert!(!london.eea_tagged, "London is European but not EEA");

    // Replacing an org keeps one row and changes the plan.
    policy
        .upsert_org(pb::UpsertOrgRequest { org: Some(org("org-a", "eu-central-1", pb::Plan::EeaOnly)) })
        .await
        .unwrap();
    let replaced = policy.get_org(pb::GetOrgRequest { org_id: "org-a".into() }).await.unwrap().into_inner();
    assert_eq!(replaced.plan(), pb::Plan::EeaOnly);

    let first =
        policy.list_orgs(pb::ListOrgsRequest { page_size: 2, page_token: String::new() }).await.unwrap().into_inner();
    assert_eq!(first.orgs.iter().map(|org| org.org_id.as_str()).collect::<Vec<_>>(), ["org-a", "org-b"]);
    assert!(!first.next_page_token.is_empty());
    let second = policy
        .list_orgs(pb::ListOrgsRequest { page_size: 2, page_token: first.next_page_token })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.orgs.iter().map(|org| org.org_id.as_str()).collect::<Vec<_>>(), ["org-c"]);
    assert!(second.next_page_token.is_empty());

    policy.delete_org(pb::DeleteOrgRequest { org_id: "org-c".into() }).await.unwrap();
    let missing = policy.get_org(pb::GetOrgRequest { org_id: "org-c".into() }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let again = policy.delete_org(pb::DeleteOrgRequest { org_id: "org-c".into() }).await.unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
}

async fn consents_round_trip(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut policy) = (&spawned.app, spawned.app.policy.clone());
    app.put_org(org("acme", "eu-central-1", pb::Plan::Standard)).await;
    app.put_agents(vec![agent("us-1", "US", "America/New_York")]).await;
    let consent = consent("acme", "T-100", "us-1", "2027-01-01T00:00:00Z");
    let granted =
        policy.grant_consent(pb::GrantConsentRequest { consent: Some(consent.clone()) }).await.unwrap().into_inner();
    assert_eq!(granted, consent);
    assert_eq!(consents_of(&mut policy, "acme").await, vec![consent]);

    let unknown_org = pb::Consent { org_id: "nobody".into(), ..granted.clone() };
    let error = policy.grant_consent(pb::GrantConsentRequest { consent: Some(unknown_org) }).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    let no_expiry = pb::Consent { expires_at: None, ..granted.clone() };
    let error = policy.grant_consent(pb::GrantConsentRequest { consent: Some(no_expiry) }).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["consent.expires_at"]);

    let revoke = pb::RevokeConsentRequest { org_id: "acme".into(), ticket_id: "T-100".into(), agent_id: "us-1".into() };
    policy.revoke_consent(revoke.clone()).await.unwrap();
    assert!(consents_of(&mut policy, "acme").await.is_empty());
    let error = policy.revoke_consent(revoke).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
}

/// The consents on file for `org_id`, as the first page lists them.
async fn consents_of(policy: &mut PolicyClient, org_id: &str) -> Vec<pb::Consent> {
    let request = pb::ListConsentsRequest { org_id: org_id.into(), ..Default::default() };
    policy.list_consents(request).await.unwrap().into_inner().consents
}

async fn the_policy_in_force_is_readable(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut policy = spawned.app.policy.clone();
    let view = policy
        .get_policy(pb::GetPolicyRequest { at: Some(timestamp("2026-06-01T00:00:00Z")) })
        .await
        .unwrap()
        .into_inner();
    assert!(view.tz_database_version.as_str() >= "2026f", "{}", view.tz_database_version);
    let eea = view.countries.iter().filter(|country| country.basis() == pb::TransferBasis::Eea).count();
    assert_eq!(eea, 30);
    let brazil = view.countries.iter().find(|country| country.country == "BR").unwrap();
    assert_eq!(brazil.valid_from, Some(timestamp("2026-01-26T00:00:00Z")));
    assert!(brazil.in_force);
    let zurich = view.regions.iter().find(|region| region.region == "eu-central-2").unwrap();
    assert!(!zurich.eea);
    let target2 = view.calendars.iter().find(|calendar| calendar.name == "target2").unwrap();
    assert!(target2.sample_dates.contains(&"2026-04-03".to_owned()));
    let eea_only = view.plans.iter().find(|plan| plan.plan() == pb::Plan::EeaOnly).unwrap();
    assert_eq!(eea_only.excluded_categories.len(), 4);
    // The Working Time Directive's defaults, and no country's own values shipped.
    let hours = |hours: i64| Some(prost_types::Duration { seconds: hours * 3_600, nanos: 0 });
    assert_eq!(view.working_time.len(), 1);
    let defaults = &view.working_time[0];
    assert_eq!(defaults.country, "");
    assert_eq!(
        (defaults.daily_rest, defaults.weekly_rest, defaults.max_average_weekly_work),
        (hours(11), hours(35), hours(48))
    );
    assert_eq!(
        (defaults.reference_weeks, defaults.night_starts.as_str(), defaults.night_ends.as_str()),
        (17, "23:00", "06:00")
    );
    assert!(defaults.source.contains("2003/88/EC"), "{}", defaults.source);
}

crate::on_both_backends!(orgs_round_trip_with_pagination, consents_round_trip, the_policy_in_force_is_readable);
