use loom::sync::Arc;
use loom::thread;
use publish_flag_ordering_loom::*;

const READING: Reading = Reading { seq: 7, millicelsius: 21_500 };

/// Both threads' traces, each in its own program order.
fn traces(traces: &[&Trace]) -> String {
    let mut out = String::new();
    for t in traces {
        out.push_str(&format!("  {}, in program order:\n", t.who));
        for line in &t.lines {
            out.push_str(&format!("      {line}\n"));
        }
    }
    out
}

#[test]
fn a_published_reading_is_polled_whole() {
    loom::model(|| {
        let mailbox = Mailbox::new();
        let mut t = Trace::new("main");
        assert_eq!(mailbox.poll(&mut t), None, "nothing published yet");
        mailbox.publish(READING, &mut t);
        assert_eq!(mailbox.poll(&mut t), Some(READING));
    });
}

#[test]
fn a_reader_that_sees_ready_sees_the_reading() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::new());
        let m = mailbox.clone();
        let sensor = thread::spawn(move || {
            let mut t = Trace::new("sensor");
            m.publish(READING, &mut t);
            t
        });
        let mut reader = Trace::new("reader");
        let seen = mailbox.poll(&mut reader);
        let sensor = sensor.join().unwrap();
        if let Some(reading) = seen {
            assert_eq!(
                reading,
                READING,
                "\nThe reader saw ready == true but read {reading:?}, not {READING:?}.\n\
                 The execution loom found:\n{}\
                 No interleaving of these lines explains the stale values: the reader saw the \
                 flag store without the stores before it. What makes them visible with it?\n",
                traces(&[&sensor, &reader])
            );
        }
    });
}

#[test]
fn collect_sees_whole_readings() {
    loom::model(|| {
        let boxes = Arc::new([Mailbox::new(), Mailbox::new()]);
        let b = boxes.clone();
        let sensor = thread::spawn(move || {
            let mut t = Trace::new("sensor");
            b[1].publish(READING, &mut t);
            t
        });
        let mut dashboard = Trace::new("dashboard");
        let seen = collect(&boxes[..], &mut dashboard);
        let sensor = sensor.join().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], None, "box 0 is never published");
        if let Some(reading) = seen[1] {
            assert_eq!(
                reading,
                READING,
                "\ncollect saw box 1 ready but read {reading:?}, not {READING:?}.\n\
                 The execution loom found:\n{}",
                traces(&[&sensor, &dashboard])
            );
        }
    });
}
