// Behaviour the pages declare with data- attributes, so the Content-Security-Policy can
// forbid inline scripts and event handlers (script-src 'self').
"use strict";

// <form data-confirm="question">: ask before submitting.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// <form data-stream-to="/url">: send the form's one file as the raw request body (the server
// streams it to disk), the other fields as the query string; without fetch the form posts
// as multipart instead.
document.addEventListener("submit", async (event) => {
  const form = event.target, target = form.dataset && form.dataset.streamTo;
  const input = target && form.querySelector("input[type=file]");
  const file = input && input.files[0];
  if (!file || !window.fetch || event.defaultPrevented) return;
  event.preventDefault();
  const query = new URLSearchParams({filename: file.name});
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && name !== "_csrf_token") query.set(name, value);
  }
  const response = await fetch(target + "?" + query, {method: "POST", body: file,
    headers: {"x-csrftoken": form.querySelector("[name=_csrf_token]").value}});
  window.location = response.redirected ? response.url : (form.dataset.streamDone || "/");
});
