//! Copy behaviour of the sim cloud through the driver: the five-per-region queue, cancel,
//! idempotency, faults, and state that survives a restart.

mod common;

use std::time::Duration;

use common::*;
use imagenest_cloud::{Driver, ImageStatus};
use imagenest_simcloud::{CopySpeed, Faults, ImageFilter};

/// A speed at which a 1 GiB copy takes an hour: nothing finishes during a test.
const FROZEN: CopySpeed = CopySpeed::GibPerSec(1.0 / 3600.0);

#[tokio::test]
async fn five_copies_run_per_region_and_the_rest_wait() {
    let (_dir, sim) = start(FROZEN).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    let d = sim.driver("delivery").unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            d.copy_image(&copy(
                "cn-hangzhou",
                &source,
                "cn-shanghai",
                &format!("q{i}"),
            ))
            .await
            .unwrap(),
        );
    }
    // Another region is not held up by cn-shanghai's queue.
    let other = d
        .copy_image(&copy("cn-hangzhou", &source, "cn-beijing", "other"))
        .await
        .unwrap();
    assert_eq!(
        describe(&d, "cn-beijing", &other).await.status,
        ImageStatus::Creating
    );
    let states = d.describe_images("cn-shanghai", &ids).await.unwrap();
    let count = |s: ImageStatus| states.iter().filter(|x| x.status == s).count();
    assert_eq!(
        (count(ImageStatus::Creating), count(ImageStatus::Waiting)),
        (5, 2)
    );
    assert_eq!(sim.queue_lengths("cn-shanghai"), (5, 2));
    // Waiting copies are the last two asked for.
    assert_eq!(
        describe(&d, "cn-shanghai", &ids[5]).await.status,
        ImageStatus::Waiting
    );
    // A copy in progress cannot be deleted, only cancelled; cancelling frees a slot at once.
    let err = d.delete_image("cn-shanghai", &ids[0]).await.unwrap_err();
    assert_eq!(err.code(), Some("IncorrectImageStatus"), "{err}");
    assert!(!err.is_retryable());
    d.cancel_copy("cn-shanghai", &ids[0]).await.unwrap();
    assert!(
        d.describe_images("cn-shanghai", &ids[..1])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        describe(&d, "cn-shanghai", &ids[5]).await.status,
        ImageStatus::Creating
    );
    assert_eq!(sim.queue_lengths("cn-shanghai"), (5, 1));
    // A waiting copy can be cancelled too.
    d.cancel_copy("cn-shanghai", &ids[6]).await.unwrap();
    assert_eq!(sim.queue_lengths("cn-shanghai"), (5, 0));
    // An unfinished copy cannot be copied further.
    let err = d
        .copy_image(&copy("cn-shanghai", &ids[1], "cn-beijing", "chain"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IncorrectImageStatus"));
}

#[tokio::test]
async fn client_token_makes_copies_idempotent() {
    let (_dir, sim) = start(FROZEN).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    let d = sim.driver("delivery").unwrap();
    let req = copy("cn-hangzhou", &source, "us-east-1", "version-42-us-east-1");
    let first = d.copy_image(&req).await.unwrap();
    let second = d.copy_image(&req).await.unwrap();
    assert_eq!(first, second);
    let in_region = sim.images(&ImageFilter {
        owner: Some("delivery".into()),
        region: Some("us-east-1".into()),
        ..Default::default()
    });
    assert_eq!(in_region.len(), 1);
    let mut other = req.clone();
    other.destination_region = "us-west-1".into();
    let err = d.copy_image(&other).await.unwrap_err();
    assert_eq!(err.code(), Some("IdempotentParameterMismatch"), "{err}");
    assert!(!err.is_retryable());
    // Tokens are per account: another account's same token is a new copy.
    let acme = sim.driver("acme").unwrap();
    let third = acme.copy_image(&req).await.unwrap();
    assert_ne!(third, first);
}

#[tokio::test]
async fn copies_take_time_proportional_to_size() {
    // 24 GiB at 16 GiB/s: 1.5 s; 1 GiB: 62 ms.
    let (_dir, sim) = start(CopySpeed::GibPerSec(16.0)).await;
    let big = vendor_image(&sim, "cn-hangzhou", 24);
    let small = vendor_image(&sim, "cn-hangzhou", 1);
    let d = sim.driver("delivery").unwrap();
    let big_copy = d
        .copy_image(&copy("cn-hangzhou", &big, "cn-qingdao", "big"))
        .await
        .unwrap();
    let small_copy = d
        .copy_image(&copy("cn-hangzhou", &small, "cn-qingdao", "small"))
        .await
        .unwrap();
    wait_until(Duration::from_secs(5), "small copy", || async {
        describe(&d, "cn-qingdao", &small_copy).await.status == ImageStatus::Available
    })
    .await;
    let big_state = describe(&d, "cn-qingdao", &big_copy).await;
    assert_eq!(
        big_state.status,
        ImageStatus::Creating,
        "the 4 GiB copy is still running"
    );
    assert!(big_state.progress < 100);
    wait_until(Duration::from_secs(5), "big copy", || async {
        describe(&d, "cn-qingdao", &big_copy).await.status == ImageStatus::Available
    })
    .await;
}

#[tokio::test]
async fn state_survives_a_restart_and_copies_keep_progressing() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB at 2 GiB/s: 500 ms.
    let speed = CopySpeed::GibPerSec(2.0);
    let sim = start_in(dir.path(), speed, Faults::default()).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    let d = sim.driver("delivery").unwrap();
    let copy_id = d
        .copy_image(&copy("cn-hangzhou", &source, "me-east-1", "restart"))
        .await
        .unwrap();
    let delivery = sim.delivery().unwrap();
    let info_before =
        imagenest_simcloud::SimInfo::read(&dir.path().join("sim-cloud.json")).unwrap();
    assert_eq!(info_before.endpoint, sim.endpoint());
    sim.shutdown().await;

    let sim = start_in(dir.path(), speed, Faults::default()).await;
    assert_eq!(
        sim.delivery().unwrap(),
        delivery,
        "accounts and keys persist"
    );
    let info = imagenest_simcloud::SimInfo::read(&dir.path().join("sim-cloud.json")).unwrap();
    assert_eq!(info.endpoint, sim.endpoint());
    assert_eq!(info.delivery(), Some(&delivery));
    let d = sim.driver("delivery").unwrap();
    wait_until(Duration::from_secs(5), "copy after restart", || async {
        describe(&d, "me-east-1", &copy_id).await.status == ImageStatus::Available
    })
    .await;
    // The token still maps to the same copy after the restart: no second copy.
    let again = d
        .copy_image(&copy("cn-hangzhou", &source, "me-east-1", "restart"))
        .await
        .unwrap();
    assert_eq!(again, copy_id);
    let owned = sim.images(&ImageFilter {
        owner: Some("delivery".into()),
        region: Some("me-east-1".into()),
        ..Default::default()
    });
    assert_eq!(owned.len(), 1);
    // Dropping the handle releases the directory too.
    drop(sim);
    let sim = start_in(dir.path(), speed, Faults::default()).await;
    assert_eq!(sim.images(&ImageFilter::default()).len(), 2);
}

#[tokio::test]
async fn a_second_sim_on_the_same_dir_is_refused() {
    let (dir, _sim) = start(CopySpeed::Instant).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = imagenest_simcloud::SimCloud::start(
        imagenest_simcloud::SimConfig::new(dir.path()),
        listener,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, imagenest_simcloud::SimError::Locked { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_is_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults {
        throttle_rate: 1.0,
        ..Default::default()
    };
    let sim = start_in(dir.path(), CopySpeed::Instant, faults).await;
    let d = sim.driver("delivery").unwrap();
    let err = d.list_regions().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err}");
    assert!(err.is_retryable());
    // Faults change at run time.
    sim.set_faults(Faults::default()).unwrap();
    d.list_regions().await.unwrap();
}

#[tokio::test]
async fn a_region_down_fails_only_that_region() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    sim.set_faults(Faults {
        down_regions: ["eu-west-1".to_string()].into(),
        ..Default::default()
    })
    .unwrap();
    let d = sim.driver("delivery").unwrap();
    let err = d
        .copy_image(&copy("cn-hangzhou", &source, "eu-west-1", "down"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"), "{err}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("eu-west-1"), "{err}");
    assert!(
        d.describe_images("eu-west-1", &["m-x".to_string()])
            .await
            .unwrap_err()
            .is_retryable()
    );
    d.copy_image(&copy("cn-hangzhou", &source, "eu-central-1", "up"))
        .await
        .unwrap();
    assert!(
        sim.set_faults(Faults {
            down_regions: ["mars-1".to_string()].into(),
            ..Default::default()
        })
        .is_err()
    );
}

#[tokio::test]
async fn failure_rate_makes_copies_end_create_failed() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    sim.set_faults(Faults {
        failure_rate: 1.0,
        latency_ms: 30,
        ..Default::default()
    })
    .unwrap();
    let d = sim.driver("delivery").unwrap();
    let started = std::time::Instant::now();
    let id = d
        .copy_image(&copy("cn-hangzhou", &source, "ap-northeast-1", "fail"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "latency is added"
    );
    let state = describe(&d, "ap-northeast-1", &id).await;
    assert_eq!(state.status, ImageStatus::CreateFailed);
    // A failed copy can be deleted, then copied again under a new token.
    d.delete_image("ap-northeast-1", &id).await.unwrap();
    sim.set_faults(Faults::default()).unwrap();
    let id = d
        .copy_image(&copy(
            "cn-hangzhou",
            &source,
            "ap-northeast-1",
            "fail-retry-1",
        ))
        .await
        .unwrap();
    assert_eq!(
        describe(&d, "ap-northeast-1", &id).await.status,
        ImageStatus::Available
    );
}

#[tokio::test]
async fn a_fifth_of_copies_fail_with_a_20_percent_rate() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    sim.set_faults(Faults {
        failure_rate: 0.2,
        ..Default::default()
    })
    .unwrap();
    let d = sim.driver("delivery").unwrap();
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(
            d.copy_image(&copy(
                "cn-hangzhou",
                &source,
                "cn-chengdu",
                &format!("r{i}"),
            ))
            .await
            .unwrap(),
        );
    }
    let states = d.describe_images("cn-chengdu", &ids).await.unwrap();
    assert_eq!(states.len(), 200, "describe splits long ID lists");
    let failed = states
        .iter()
        .filter(|s| s.status == ImageStatus::CreateFailed)
        .count();
    // Seeded draws: deterministic, and near 40.
    assert!((20..=60).contains(&failed), "{failed} of 200 failed");
}
