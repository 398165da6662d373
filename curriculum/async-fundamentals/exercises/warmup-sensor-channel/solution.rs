use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

/// A sensor that produces `samples` readings, one every `period`.
#[derive(Debug, Clone)]
pub struct Sensor {
    pub name: &'static str,
    pub period: Duration,
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub sensor: &'static str,
    /// 1 for the sensor's first reading, 2 for the second, ...
    pub seq: u32,
    /// When the reading was taken, relative to the start of `collect`.
    pub at: Duration,
}

/// Starts one task per sensor. Each sends its readings on a shared channel;
/// `collect` gathers them in arrival order and returns once every sensor has
/// sent all of its readings.
pub async fn collect(sensors: Vec<Sensor>) -> Vec<Reading> {
    let start = Instant::now();
    let (tx, mut rx) = mpsc::channel(8);
    for sensor in sensors {
        let tx = tx.clone();
        tokio::spawn(async move {
            for seq in 1..=sensor.samples {
                sleep(sensor.period).await;
                let reading = Reading { sensor: sensor.name, seq, at: start.elapsed() };
                if tx.send(reading).await.is_err() {
                    return; // the collector is gone
                }
            }
            // `tx` (this task's clone) is dropped here.
        });
    }
    // The channel closes when the last Sender is dropped. The tasks own
    // clones; this original must go too, or `recv` waits for it forever.
    drop(tx);

    let mut readings = Vec::new();
    while let Some(reading) = rx.recv().await {
        readings.push(reading);
    }
    readings
}
