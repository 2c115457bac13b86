// The desk's only script (served from the package; the CSP allows nothing else). Every change is a
// POST of JSON with the page's CSRF token; a refused save (a conflicting edit) is shown, never hidden.
"use strict";
(function () {
  const body = document.body;
  const csrf = body.dataset.csrf;
  const status = document.getElementById("status");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "bad" : "good";
  }

  async function post(path, data) {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(data),
    });
    let reply = {};
    try { reply = await response.json(); } catch (error) { reply = {error: "the desk did not answer (is it running?)"}; }
    if (!response.ok) {
      say((response.status === 409 ? "NOT SAVED: " : "error: ") + (reply.error || response.status), true);
      if (response.status === 409) { window.alert("Not saved: " + reply.error); }
      return null;
    }
    return reply;
  }

  function number(input) {
    const value = input.value.trim();
    return value === "" ? 0 : Number(value);
  }

  // ---- one answer ----
  if (body.dataset.page === "answer") {
    const question = body.dataset.question;
    const key = body.dataset.key;
    const form = document.getElementById("score");
    const adjust = document.getElementById("adjust");
    const comment = document.getElementById("comment");
    const items = Array.from(document.querySelectorAll("#items input.item"));
    const names = body.dataset.names ? "?names=1" : "";

    function go(target) {
      if (target) { window.location.href = "/q/" + encodeURIComponent(question) + "/a/" + encodeURIComponent(target) + names; }
    }

    async function save(then) {
      const reply = await post("/api/scores", {question: question, scores: [{
        key: key, version: Number(body.dataset.version), adjust: number(adjust), comment: comment.value,
        items: items.filter(i => i.checked).map(i => Number(i.value))}]});
      if (!reply) { return false; }
      const saved = reply.saved[key];
      body.dataset.version = String(saved.version);
      document.getElementById("total").textContent = String(saved.points);
      say("saved: " + saved.points + " / " + body.dataset.max, false);
      if (then) { then(); }
      return true;
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); save(() => go(body.dataset.next)); });
    items.forEach(i => i.addEventListener("change", () => save()));

    document.addEventListener("keydown", function (event) {
      const target = event.target;
      const typing = target.tagName === "INPUT" || target.tagName === "TEXTAREA";
      if (typing) {
        if (event.key === "Escape") { target.blur(); }
        if (event.key === "Enter" && (target.tagName === "INPUT" || event.ctrlKey) && target.closest("#score")) {
          event.preventDefault(); save(() => go(body.dataset.next));
        }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "j" || event.key === "ArrowRight" || event.key === "ArrowDown") { event.preventDefault(); go(body.dataset.next); }
      else if (event.key === "k" || event.key === "ArrowLeft" || event.key === "ArrowUp") { event.preventDefault(); go(body.dataset.previous); }
      else if (/^[1-9]$/.test(event.key)) {
        const item = items[Number(event.key) - 1];
        if (item) { event.preventDefault(); item.checked = !item.checked; save(); }
      }
      else if (event.key === "c") { event.preventDefault(); comment.focus(); }
      else if (event.key === "p") { event.preventDefault(); adjust.focus(); adjust.select(); }
      else if (event.key === "Enter") { event.preventDefault(); save(() => go(body.dataset.next)); }
    });

    // Rubric items: create one, or edit one (its points change every score that holds it).
    const itemForm = document.getElementById("item-form");
    document.querySelectorAll("button.edit-item").forEach(function (button) {
      button.addEventListener("click", function () {
        document.getElementById("item-id").value = button.dataset.id;
        document.getElementById("item-version").value = button.dataset.version;
        document.getElementById("item-label").value = button.dataset.label;
        document.getElementById("item-points").value = button.dataset.points;
        document.getElementById("item-comment").value = button.dataset.comment;
        itemForm.closest("details").open = true;
        document.getElementById("item-points").focus();
      });
    });
    itemForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const id = document.getElementById("item-id").value;
      const reply = await post("/api/rubric", {
        question: question, id: id === "" ? null : Number(id), version: Number(document.getElementById("item-version").value),
        label: document.getElementById("item-label").value, points: number(document.getElementById("item-points")),
        comment: document.getElementById("item-comment").value});
      if (reply) { window.location.reload(); }
    });
  }

  // ---- answer groups ----
  if (body.dataset.page === "groups") {
    const question = body.dataset.question;
    document.querySelectorAll("section.group").forEach(function (section) {
      section.querySelector("form.group-form").addEventListener("submit", async function (event) {
        event.preventDefault();
        const chosen = Array.from(section.querySelectorAll("input.member")).filter(m => m.checked);
        const items = Array.from(section.querySelectorAll("form input.item")).filter(i => i.checked).map(i => Number(i.value));
        const adjust = number(section.querySelector("input.adjust"));
        const comment = section.querySelector("input.comment").value;
        if (!chosen.length) { say("tick at least one answer", true); return; }
        const reply = await post("/api/scores", {question: question, scores: chosen.map(m => ({
          key: m.value, version: Number(m.dataset.version), adjust: adjust, comment: comment, items: items}))});
        if (reply) { window.location.reload(); }
      });
    });
  }

  // ---- write grades.csv and the feedback ----
  const writeButton = document.getElementById("write-outputs");
  if (writeButton) {
    writeButton.addEventListener("click", async function () {
      writeButton.disabled = true;
      say("writing the outputs…", false);
      const reply = await post("/api/report", {});
      writeButton.disabled = false;
      if (reply) { say("done", false); document.getElementById("report-output").textContent = reply.message; }
    });
  }
})();
