use std::any::Any;
use std::future::Future;
use std::pin::Pin;

pub type Job = Pin<Box<dyn Future<Output = u64> + Send + 'static>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPanicked {
    /// Index of the job in the input vector.
    pub job: usize,
    /// The panic message, or "<non-string panic>".
    pub message: String,
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".to_string()
    }
}

/// Runs every job as its own task and returns the sum of their outputs.
pub async fn run_batch(jobs: Vec<Job>) -> Result<u64, JobPanicked> {
    let mut handles: Vec<_> = jobs.into_iter().map(tokio::spawn).collect();
    let mut total = 0;
    for i in 0..handles.len() {
        match (&mut handles[i]).await {
            Ok(v) => total += v,
            Err(e) => {
                let message = if e.is_panic() {
                    panic_message(&*e.into_panic())
                } else {
                    "<cancelled>".to_string()
                };
                // Stop everything that is still running, and wait until it
                // has really stopped: abort() only *requests* cancellation.
                let rest = handles.split_off(i + 1);
                for h in &rest {
                    h.abort();
                }
                for h in rest {
                    let _ = h.await;
                }
                return Err(JobPanicked { job: i, message });
            }
        }
    }
    Ok(total)
}
