// Exam pages: background autosave with retry, and the countdown.
// The server is the authority on time and on answers; this script only keeps the
// page in step with it. No inline script is used, so the CSP can forbid it.
(function () {
  "use strict";

  var form = document.getElementById("answer-form");
  var statusLine = document.getElementById("save-status");

  function say(text, failed) {
    if (!statusLine) return;
    statusLine.textContent = text;
    statusLine.classList.toggle("failed", !!failed);
  }

  if (form && !form.dataset.locked) {
    var url = form.dataset.autosave;
    var sequenceInput = form.querySelector("input[name=sequence]");
    var dirty = false;
    var inFlight = null;
    var retryDelay = 2000;
    var retryTimer = null;

    var save = function () {
      if (inFlight) return inFlight;
      dirty = false;
      var body = new FormData(form);
      body.delete("go");
      inFlight = fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.ok) {
            sequenceInput.value = data.sequence;
            retryDelay = 2000;
            say("Answer saved.");
            return;
          }
          if (response.status === 409 && data.closed) {
            say(data.error || "This attempt is closed.", true);
            window.location.reload();
            return;
          }
          if (response.status === 409 || response.status === 400) {
            say((data.error || "Your answer could not be saved.") + " Reload the page to see the saved answer.", true);
            return;
          }
          if (response.status === 401) {
            say(data.error || "Your session has ended. Sign in again; saved answers are kept.", true);
            return;
          }
          throw new Error("status " + response.status);
        });
      }).catch(function () {
        dirty = true;
        say("Connection lost: your last answer is not saved yet. Retrying…", true);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(save, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      }).finally(function () {
        inFlight = null;
      });
      return inFlight;
    };

    form.addEventListener("change", function () {
      dirty = true;
      say("Saving…");
      save();
    });
    // While the trainee stays on a question, keep the server in step.
    setInterval(function () { if (dirty && !inFlight) save(); }, 15000);

    // Moving on posts the form; wait for a save in flight so its sequence is current.
    form.addEventListener("submit", function (event) {
      if (!inFlight) return;
      event.preventDefault();
      var submitter = event.submitter;
      inFlight.then(function () {
        if (submitter) { form.requestSubmit(submitter); } else { form.submit(); }
      });
    });
  }

  var countdown = document.getElementById("countdown");
  if (countdown) {
    var endsAt = Date.now() + Number(countdown.dataset.remaining) * 1000;
    var display = countdown.querySelector("strong");
    var announcer = document.getElementById("countdown-announce");
    var announced = {};
    var submitted = false;
    var tick = function () {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      display.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      countdown.classList.toggle("low", left <= 300);
      // Screen readers hear the time twice, not every second.
      [[300, "5 minutes left."], [60, "1 minute left."]].forEach(function (mark) {
        if (left <= mark[0] && left > mark[0] - 30 && !announced[mark[0]] && announcer) {
          announced[mark[0]] = true;
          announcer.textContent = mark[1];
        }
      });
      if (left === 0 && !submitted) {
        submitted = true;
        say("Time is up: submitting your saved answers…");
        var finish = function () { document.getElementById(countdown.dataset.submitForm).submit(); };
        if (form && typeof save === "function") { save(); }
        // A moment past the server's deadline, so the result reads "time ran out".
        setTimeout(finish, 1500);
      }
    };
    tick();
    setInterval(tick, 1000);
  }
})();
