//! `rampart bench flags`: how long one flag evaluation takes in-process,
//! through a node's flag cache (`Flags::evaluate_in`: a read lock, a map
//! look-up, the rules, the MurmurHash3 bucket and the variant).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use rampart_app::audit::Audit;
use rampart_app::flags::Flags;
use rampart_core::flag::{
    Constraint, ContextField, Flag, FlagContext, FlagDefinition, FlagRule, Operator, Stickiness,
    Variant,
};
use rampart_core::{AuditEntry, Clock, OrgId, Organisation, Role, SystemClock, UserId};
use rampart_store::{FlagWrite, NewUser};

use crate::percentile::percentile;

pub async fn run(evaluations: usize, runs: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("rampart-bench-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = rampart_store::connect(&format!("sqlite://{}", dir.join("rampart.db").display()))
        .await
        .context("opening the store")?;
    store.migrate().await?;
    let clock = Arc::new(SystemClock);
    let now = clock.now();
    let org = OrgId::new();
    store
        .create_org_with_admin(
            &Organisation {
                id: org,
                name: "bench".into(),
                created_at: now,
            },
            &NewUser {
                id: UserId::new(),
                email: "admin@bench.test".into(),
                display_name: "Admin".into(),
                role: Role::Admin,
                platform_admin: false,
                password_hash: "x".into(),
                created_at: now,
            },
        )
        .await?;
    // Three rules: the first two rarely match, the last rolls out to 30 %.
    let constraint = |field, operator, values: &[&str]| Constraint {
        field,
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let definition = FlagDefinition {
        description: "bench".into(),
        enabled: true,
        rules: vec![
            FlagRule {
                constraints: vec![constraint(ContextField::Role, Operator::In, &["admin"])],
                rollout: 100,
                stickiness: Stickiness::Default,
                group: None,
            },
            FlagRule {
                constraints: vec![constraint(
                    ContextField::ClientAddress,
                    Operator::InCidr,
                    &["10.0.0.0/8", "192.168.0.0/16"],
                )],
                rollout: 100,
                stickiness: Stickiness::Default,
                group: None,
            },
            FlagRule {
                constraints: vec![constraint(
                    ContextField::EmailDomain,
                    Operator::In,
                    &["example.com"],
                )],
                rollout: 30,
                stickiness: Stickiness::UserId,
                group: None,
            },
        ],
        variants: vec![
            Variant {
                name: "a".into(),
                weight: 500,
            },
            Variant {
                name: "b".into(),
                weight: 500,
            },
        ],
    };
    let flag = Flag {
        key: "beta.bench".into(),
        org_id: Some(org),
        definition,
        created_at: now,
        updated_at: now,
        updated_by: "bench".into(),
    };
    let entry = AuditEntry::new(
        org,
        now,
        "bench",
        "flag.create",
        ("flag", flag.key.clone()),
        None,
        None,
    );
    store
        .put_flag(&flag, FlagWrite::Create, org, &entry)
        .await?;
    let flags = Flags::new(
        store.clone(),
        clock.clone(),
        Audit::new(store.clone(), clock),
    );
    flags.refresh().await?;
    let contexts: Vec<FlagContext> = (0..1024)
        .map(|n| FlagContext {
            org_id: Some(org.to_string()),
            user_id: Some(format!("user-{n}")),
            role: Some("analyst".into()),
            email: Some(format!("u{n}@example.com")),
            client_address: Some(format!("203.0.113.{}", n % 250)),
            ..FlagContext::default()
        })
        .collect();
    let mut per_eval = Vec::new();
    let mut enabled = 0usize;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        for n in 0..evaluations {
            let e = flags.evaluate_in(org, "beta.bench", &contexts[n % contexts.len()]);
            enabled += usize::from(e.enabled);
        }
        per_eval.push(started.elapsed().as_nanos() as f64 / evaluations as f64);
    }
    per_eval.sort_by(f64::total_cmp);
    println!(
        "{evaluations} evaluations × {runs} runs (3 rules, CIDR and domain constraints, 30 % rollout, 2 variants): \
         median {:.0} ns, min {:.0} ns, max {:.0} ns per evaluation; {:.1} % on",
        percentile(&per_eval, 0.5),
        per_eval[0],
        per_eval[per_eval.len() - 1],
        enabled as f64 * 100.0 / (evaluations * runs.max(1)) as f64
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
