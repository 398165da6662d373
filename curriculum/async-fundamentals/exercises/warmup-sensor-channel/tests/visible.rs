use std::time::Duration;
use tokio::time::{Instant, timeout};
use warmup_sensor_channel::*;

const MS: Duration = Duration::from_millis(1);

async fn collect_within_a_minute(sensors: Vec<Sensor>) -> Vec<Reading> {
    timeout(Duration::from_secs(60), collect(sensors))
        .await
        .expect("collect() did not return within 60 s of virtual time: is the channel ever closed?")
}

fn r(sensor: &'static str, seq: u32, at_ms: u64) -> Reading {
    Reading { sensor, seq, at: Duration::from_millis(at_ms) }
}

#[tokio::test(start_paused = true)]
async fn one_sensor_all_readings_in_order() {
    let readings = collect_within_a_minute(vec![Sensor { name: "temp", period: 100 * MS, samples: 3 }]).await;
    assert_eq!(readings, vec![r("temp", 1, 100), r("temp", 2, 200), r("temp", 3, 300)]);
}

#[tokio::test(start_paused = true)]
async fn two_sensors_interleave_in_arrival_order() {
    let readings = collect_within_a_minute(vec![
        Sensor { name: "temp", period: 30 * MS, samples: 3 },
        Sensor { name: "door", period: 70 * MS, samples: 2 },
    ])
    .await;
    assert_eq!(
        readings,
        vec![r("temp", 1, 30), r("temp", 2, 60), r("door", 1, 70), r("temp", 3, 90), r("door", 2, 140)]
    );
}

#[tokio::test(start_paused = true)]
async fn returns_when_the_last_sensor_is_done() {
    let start = Instant::now();
    collect_within_a_minute(vec![
        Sensor { name: "fast", period: 10 * MS, samples: 2 },
        Sensor { name: "slow", period: 250 * MS, samples: 2 },
    ])
    .await;
    assert_eq!(start.elapsed(), 500 * MS, "the slow sensor's last reading is at 500 ms; return right then");
}
