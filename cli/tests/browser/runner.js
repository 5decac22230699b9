// The browser suite's runner: executes the plan's steps in order, as page script, and posts
// what the page saw to the page server's /report. The plan is JSON in <script id="plan">.
//
// Steps:
//   {id, kind: "fetch", url, init, read}         fetch() from this page; `read` names the
//                                                response headers to read
//   {id, kind: "frame-fetch", frame, url, init, read}
//                                                the same fetch from a page on another origin
//                                                (`frame`), in an iframe
//   {id, kind: "form", action}                   a form post from this page, into an iframe
//   {id, kind: "frame", url, loads}              an iframe that navigates by itself (`loads`
//                                                load events: the page, then its form post)
"use strict";

const WAIT_MS = 10000;

function timeout(what) {
  return new Promise((resolve) => setTimeout(() => resolve({ timeout: what }), WAIT_MS));
}

async function doFetch(url, init, read) {
  try {
    const response = await fetch(url, init);
    const headers = {};
    for (const name of read || []) headers[name] = response.headers.get(name);
    return { ok: true, status: response.status, headers, body: await response.text() };
  } catch (e) {
    return { ok: false, thrown: e.name + ": " + e.message };
  }
}

function frameLoads(iframe, count) {
  return new Promise((resolve) => {
    let seen = 0;
    iframe.addEventListener("load", () => {
      seen += 1;
      if (seen === count) resolve({ loaded: seen });
    });
  });
}

async function frameFetch(step) {
  const iframe = document.createElement("iframe");
  const answered = new Promise((resolve) => {
    window.addEventListener("message", (event) => {
      if (event.data && event.data.id === step.id) resolve(event.data.result);
    });
  });
  const request = { id: step.id, url: step.url, init: step.init, read: step.read };
  iframe.src = step.frame + "#" + encodeURIComponent(JSON.stringify(request));
  document.body.appendChild(iframe);
  return Promise.race([answered, timeout("no answer from the frame")]);
}

async function form(step) {
  const iframe = document.createElement("iframe");
  iframe.name = step.id;
  document.body.appendChild(iframe);
  const loaded = frameLoads(iframe, 1);
  const form = document.createElement("form");
  form.method = "post";
  form.action = step.action;
  form.target = step.id;
  const field = document.createElement("input");
  field.name = "a";
  field.value = "1";
  form.appendChild(field);
  document.body.appendChild(form);
  form.submit();
  return Promise.race([loaded, timeout("the form's answer did not load")]);
}

async function frame(step) {
  const iframe = document.createElement("iframe");
  const loaded = frameLoads(iframe, step.loads);
  iframe.src = step.url;
  document.body.appendChild(iframe);
  return Promise.race([loaded, timeout("the frame did not load " + step.loads + " times")]);
}

async function run(step) {
  switch (step.kind) {
    case "fetch":
      return doFetch(step.url, step.init, step.read);
    case "frame-fetch":
      return frameFetch(step);
    case "form":
      return form(step);
    case "frame":
      return frame(step);
    default:
      return { error: "unknown step kind " + step.kind };
  }
}

// The frame page (another origin) runs one fetch and answers its parent.
async function answerParent() {
  const request = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  const result = await doFetch(request.url, request.init, request.read);
  parent.postMessage({ id: request.id, result }, "*");
}

async function main() {
  const plan = JSON.parse(document.getElementById("plan").textContent);
  const results = {};
  for (const step of plan.steps) {
    try {
      results[step.id] = await run(step);
    } catch (e) {
      results[step.id] = { error: String(e) };
    }
  }
  await fetch("/report?run=" + plan.run, { method: "POST", body: JSON.stringify(results) });
}

if (location.pathname === "/frame") {
  answerParent();
} else {
  main();
}
