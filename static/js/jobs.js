// Following a grading job: server-sent events (`/api/events`) when they
// work, polling `GET /api/submissions/{id}` as the fallback and safety net.

import { api } from "./api.js";
import { JobStatus } from "./job.js";

/** The page's one event stream and the jobs it is following. */
export const Jobs = {
  source: null,
  live: false,
  watchers: {},

  connect: function () {
    if (this.source || !window.EventSource) return;
    var jobs = this;
    try {
      this.source = new EventSource("/api/events");
    } catch (e) {
      return;
    }
    this.source.addEventListener("open", function () { jobs.live = true; });
    this.source.addEventListener("error", function () { jobs.live = false; });
    this.source.addEventListener("job", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      var watcher = jobs.watchers[event.id];
      if (!watcher) return;
      if (event.status === JobStatus.Done) watcher.poll();
      else watcher.update({ id: event.id, status: event.status, phase: event.phase });
    });
  },

  // Calls onUpdate with each state; resolves with the finished submission.
  follow: function (id, onUpdate) {
    var jobs = this;
    this.connect();
    return new Promise(function (resolve, reject) {
      var finished = false;
      var timer = null;
      var failures = 0;
      var watcher = {
        update: function (state) { if (!finished) onUpdate(state); },
        poll: function () {
          if (finished) return;
          clearTimeout(timer);
          api("GET", "/api/submissions/" + id).then(function (result) {
            if (finished) return;
            if (result.ok) {
              failures = 0;
              onUpdate(result.data);
              if (result.data.status === JobStatus.Done) {
                finished = true;
                delete jobs.watchers[id];
                resolve(result.data);
                return;
              }
            } else if (++failures >= 5) {
              finished = true;
              delete jobs.watchers[id];
              reject(result);
              return;
            }
            // With live events the poll is only a safety net.
            timer = setTimeout(watcher.poll, jobs.live ? 4000 : 1000);
          });
        },
      };
      jobs.watchers[id] = watcher;
      watcher.poll();
    });
  },
};
