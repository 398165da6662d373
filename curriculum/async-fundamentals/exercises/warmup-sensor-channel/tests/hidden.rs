use std::time::Duration;
use tokio::time::{Instant, timeout};
use warmup_sensor_channel::*;

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn no_sensors_returns_at_once() {
    let start = Instant::now();
    let readings = timeout(Duration::from_secs(60), collect(vec![])).await.expect("collect() never returned");
    assert!(readings.is_empty());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn more_readings_than_the_channel_holds() {
    let readings = timeout(
        Duration::from_secs(60),
        collect(vec![Sensor { name: "burst", period: MS, samples: 50 }]),
    )
    .await
    .expect("collect() never returned");
    assert_eq!(readings.len(), 50);
    assert!(readings.iter().enumerate().all(|(i, r)| r.seq == i as u32 + 1));
}

#[tokio::test(start_paused = true)]
async fn a_sensor_with_nothing_to_say_does_not_hold_things_up() {
    let start = Instant::now();
    let readings = timeout(
        Duration::from_secs(60),
        collect(vec![
            Sensor { name: "quiet", period: 10 * MS, samples: 0 },
            Sensor { name: "temp", period: 40 * MS, samples: 1 },
        ]),
    )
    .await
    .expect("collect() never returned");
    assert_eq!(readings, vec![Reading { sensor: "temp", seq: 1, at: 40 * MS }]);
    assert_eq!(start.elapsed(), 40 * MS);
}
