use loom::sync::Arc;
use loom::thread;
use publish_flag_ordering_loom::*;

const READING: Reading = Reading { seq: 3, millicelsius: 19_250 };
const OTHER: Reading = Reading { seq: 4, millicelsius: 18_000 };

fn traces(traces: &[&Trace]) -> String {
    traces
        .iter()
        .map(|t| format!("  {}: {}\n", t.who, t.lines.join("; ")))
        .collect()
}

#[test]
fn a_reader_on_another_thread_sees_the_reading_whole() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::new());
        let m = mailbox.clone();
        let reader = thread::spawn(move || {
            let mut t = Trace::new("reader");
            (m.poll(&mut t), t)
        });
        let mut sensor = Trace::new("sensor");
        mailbox.publish(READING, &mut sensor);
        let (seen, reader) = reader.join().unwrap();
        assert!(
            seen.is_none() || seen == Some(READING),
            "\nread {seen:?}\n{}",
            traces(&[&sensor, &reader])
        );
        // After join, the reader's thread is ordered before us: it must see it.
        let mut after = Trace::new("after join");
        assert_eq!(mailbox.poll(&mut after), Some(READING));
    });
}

#[test]
fn collect_with_two_sensors_sees_whole_readings() {
    loom::model(|| {
        let boxes = Arc::new([Mailbox::new(), Mailbox::new()]);
        let (b0, b1) = (boxes.clone(), boxes.clone());
        let s0 = thread::spawn(move || {
            let mut t = Trace::new("sensor 0");
            b0[0].publish(READING, &mut t);
            t
        });
        let s1 = thread::spawn(move || {
            let mut t = Trace::new("sensor 1");
            b1[1].publish(OTHER, &mut t);
            t
        });
        let mut dashboard = Trace::new("dashboard");
        let seen = collect(&boxes[..], &mut dashboard);
        let (s0, s1) = (s0.join().unwrap(), s1.join().unwrap());
        assert!(
            (seen[0].is_none() || seen[0] == Some(READING))
                && (seen[1].is_none() || seen[1] == Some(OTHER)),
            "\ncollected {seen:?}\n{}",
            traces(&[&s0, &s1, &dashboard])
        );
    });
}
