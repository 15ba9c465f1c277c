// The playground page: shows what the server renders, and sends what the person does.
// The HTML of Saydo's messages, modals and Home tab comes from bot/playground/render.py;
// interactive elements carry data-action (JSON: block_id, action_id, type[, value]) and form
// controls data-block-id / data-action-id / data-kind (see that module's docstring).
"use strict";

const here = {
  as: localStorage.getItem("saydo.as") || "",
  in: localStorage.getItem("saydo.in") || "",
  version: null,
  modalKey: null,
  homeKey: null,
  messagesKey: null,
  messagesIn: null, // the conversation the messages shown belong to
  clockTz: null, // the time zone the date-time picker's value is in
  locale: null, // the acting person's locale (Slack's users.info), for dates shown
};
const $ = (selector) => document.querySelector(selector);

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: here.as, ...body }),
  });
  let answer = {};
  try { answer = await response.json(); } catch (_) { /* not JSON: reported below */ }
  if (!response.ok || !answer.ok) {
    throw new Error(answer.error || `The playground answered HTTP ${response.status}.`);
  }
  return answer;
}

function toast(text, isError = false) {
  const box = $("#toast");
  box.textContent = text;
  box.className = isError ? "error" : "";
  box.setAttribute("role", isError ? "alert" : "status");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 4000);
}

// An in-page question (the page never uses window.confirm): resolves true for yes.
function ask(title, text, yes = "OK", no = "Cancel") {
  const dialog = $("#ask");
  $("#ask-title").textContent = title;
  $("#ask-text").textContent = text;
  $("#ask-yes").textContent = yes;
  $("#ask-no").textContent = no;
  return new Promise((resolve) => {
    const answer = (value) => () => { if (dialog.open) dialog.close(); resolve(value); };
    $("#ask-yes").onclick = answer(true);
    $("#ask-no").onclick = answer(false);
    dialog.oncancel = answer(false); // Escape
    dialog.showModal();
    $("#ask-yes").focus();
  });
}

async function act(path, body, busyText = null) {
  if (busyText) { $("#busy-text").textContent = busyText; $("#busy").hidden = false; }
  try {
    const answer = await call(path, body);
    if (answer.advanced) toast(answer.advanced);
    await refresh(false);
    return answer;
  } catch (error) {
    toast(error.message, true);
    return null;
  } finally {
    $("#busy").hidden = true;
  }
}

// --- state ------------------------------------------------------------------------------

async function refresh(wait) {
  const asked = { as: here.as, in: here.in };
  const query = new URLSearchParams();
  if (asked.as) query.set("as", asked.as);
  if (asked.in) query.set("in", asked.in);
  if (wait && here.version !== null) query.set("since", here.version);
  const response = await fetch("/api/state?" + query.toString());
  if (!response.ok) throw new Error(`state: HTTP ${response.status}`);
  const state = await response.json();
  if (asked.as !== here.as || asked.in !== here.in) return; // the person moved on meanwhile
  show(state);
}

function show(state) {
  here.version = state.version;
  if (here.as !== state.me.id) { here.as = state.me.id; localStorage.setItem("saydo.as", here.as); }
  here.in = state.in;
  localStorage.setItem("saydo.in", here.in);
  here.locale = state.me.locale;
  $("#advance-to-when").lang = state.me.locale;
  showClock(state.clock);
  showPeople(state);
  showInstalls(state.installs);
  showSidebar(state);
  $("#title").textContent = state.title;
  document.title = `${state.title} · Saydo playground`;
  const atHome = state.in === "home";
  $("#home").hidden = !atHome;
  $("#messages").hidden = atHome;
  $("#composer").hidden = atHome;
  $("#hint").hidden = atHome;
  if (atHome) showHome(state.home); else showMessages(state.messages);
  showModal(state.modal);
  if (state.seeding) {
    $("#busy-text").textContent =
      `Playing a quarter of joint working: week ${state.seeding.week} of ${state.seeding.of}…`;
  }
}

// The clock's local date and time as a datetime-local value ("2026-11-27T11:04").
function localInputValue(utc, tz) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(new Date(utc))) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// The chosen date and time written the acting person's way (the picker itself follows the
// browser's language, which may not be theirs).
function showChosen() {
  const picker = $("#advance-to-when");
  const chosen = picker.value ? new Date(picker.value) : null;
  $("#advance-to-shown").textContent = chosen && !isNaN(chosen)
    ? new Intl.DateTimeFormat(here.locale || undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "numeric", minute: "2-digit",
    }).format(chosen)
    : "";
}

function showClock(clock) {
  const shown = $("#clock");
  shown.textContent = clock.local;
  shown.dateTime = clock.utc;
  $("#clock-tz").textContent = clock.tz;
  // The date-time picker starts from the playground's time (it may be far from today's), and
  // never offers the past; what the person is choosing stays.
  const picker = $("#advance-to-when");
  if (document.activeElement === picker) return;
  try {
    const now = localInputValue(clock.utc, clock.tz);
    const tzChanged = clock.tz !== here.clockTz;
    here.clockTz = clock.tz;
    picker.min = now;
    if (tzChanged || !picker.value || picker.value < now) picker.value = now;
  } catch (_) { /* an unknown time zone: leave the picker as it is */ }
  showChosen();
}

function showPeople(state) {
  const select = $("#as");
  if (select.options.length !== state.members.length) {
    select.innerHTML = "";
    for (const member of state.members) {
      const option = document.createElement("option");
      option.value = member.id;
      option.textContent = `${member.name} (${member.organisation})`;
      option.title = `${member.role}; ${member.tz}`;
      select.append(option);
    }
  }
  select.value = state.me.id;
  $("#me").textContent = `You are ${state.me.name}, ${state.me.role}, ${state.me.tz}.`;
}

// Which organisations have installed Saydo: a checkbox each for the trust and the supplier.
function showInstalls(installs) {
  const box = $("#install-choices");
  const key = JSON.stringify(installs);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.innerHTML = "";
  for (const choice of installs.choices) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = choice.installed;
    input.dataset.team = choice.team;
    input.addEventListener("change", () => chooseInstall(choice, input.checked));
    label.append(input, " " + choice.name);
    box.append(label);
  }
  $("#install-mode").textContent = installs.oauth
    ? "(each through OAuth)"
    : "(one token: the council's reaches everyone)";
}

async function chooseInstall(choice, installed) {
  $("#install-choices").dataset.key = ""; // shown afresh, as the playground says, whatever happens
  if (!installed) {
    const sure = await ask(
      `Uninstall Saydo from ${choice.name}?`,
      "Its people lose Saydo's slash commands, direct messages and Home tab, and use @saydo " +
        "in the shared channel. As in production, their personal data is erased 30 days of " +
        "playground time later, unless Saydo is installed there again before then.",
      "Uninstall",
    );
    if (!sure) { await refresh(false); return; }
  }
  await act("/api/install", { team: choice.team, installed },
    installed ? `Installing Saydo in ${choice.name}…` : `Uninstalling Saydo from ${choice.name}…`);
}

function showSidebar(state) {
  const lists = { channel: $("#channels"), group: $("#groups"), app: $("#apps") };
  for (const list of Object.values(lists)) list.innerHTML = "";
  const home = { id: "home", label: "Saydo · Home", kind: "app" };
  const entries = state.me.has_saydo ? [...state.sidebar, home] : state.sidebar;
  for (const entry of entries) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#";
    link.textContent = entry.kind === "app" && entry.id !== "home" ? "Saydo · Messages" : entry.label;
    link.dataset.conversation = entry.id;
    if (entry.id === "home") link.id = "home-tab";
    if (entry.id === state.in) { link.className = "current"; link.setAttribute("aria-current", "page"); }
    item.append(link);
    (lists[entry.kind] || lists.group).append(item);
  }
  for (const [kind, list] of Object.entries(lists)) {
    $(`#${kind}s-heading`).hidden = list.children.length === 0;
    list.hidden = list.children.length === 0;
  }
}

function showMessages(messages) {
  const key = JSON.stringify(messages);
  const box = $("#messages");
  const newPlace = here.messagesIn !== here.in;
  if (key === here.messagesKey && !newPlace) return;
  here.messagesKey = key;
  here.messagesIn = here.in;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = "";
  if (!messages.length) {
    box.innerHTML = '<p class="empty">Nothing here yet.</p>';
    return;
  }
  let day = null;
  for (const message of messages) {
    const thisDay = message.when.split(", ")[0];
    if (thisDay !== day) {
      day = thisDay;
      const divider = document.createElement("div");
      divider.className = "day";
      divider.textContent = thisDay;
      box.append(divider);
    }
    const item = document.createElement("div");
    item.className = "msg" + (message.ephemeral ? " ephemeral" : "") + (message.in_thread ? " in-thread" : "");
    item.dataset.ts = message.ts;
    const head = document.createElement("div");
    head.className = "msg-head";
    head.innerHTML = '<span class="author"></span>' + (message.app ? '<span class="app-badge">APP</span>' : "") +
      '<span class="org"></span><span class="when"></span>' +
      (message.ephemeral ? '<span class="only-you">Only visible to you</span>' : "") +
      (message.edited ? '<span class="edited">(edited)</span>' : "") +
      (message.in_thread ? '<span class="thread-reply">↳ reply in a thread</span>' : "");
    head.querySelector(".author").textContent = message.author;
    head.querySelector(".org").textContent = message.organisation;
    head.querySelector(".when").textContent = message.when.split(", ").slice(-1)[0];
    head.querySelector(".when").title = message.when;
    item.append(head);
    const body = document.createElement("div");
    body.className = "msg-body";
    body.innerHTML = message.html; // rendered and escaped by the server
    item.append(body);
    if (!message.ephemeral) {
      const shortcut = document.createElement("button");
      shortcut.type = "button";
      shortcut.className = "shortcut";
      shortcut.dataset.shortcut = "1";
      shortcut.textContent = "⋯ Make this a commitment";
      item.append(shortcut);
    }
    box.append(item);
  }
  if (atBottom || newPlace) box.scrollTop = box.scrollHeight;
}

function showHome(home) {
  const key = home ? home.view_id + home.html : "";
  if (key === here.homeKey) return;
  here.homeKey = key;
  const box = $("#home");
  box.dataset.viewId = home ? home.view_id : "";
  box.innerHTML = home ? home.html : '<p class="empty">Opening Saydo\'s Home tab…</p>';
}

function showModal(modal) {
  const backdrop = $("#modal-backdrop");
  const box = $("#modal");
  if (!modal) {
    if (!backdrop.hidden && box.contains(document.activeElement)) $("#compose").focus();
    backdrop.hidden = true;
    here.modalKey = null;
    box.innerHTML = "";
    delete box.dataset.viewId;
    return;
  }
  const key = modal.view_id + modal.html;
  backdrop.hidden = false;
  if (key === here.modalKey) return; // keep what the person is typing
  here.modalKey = key;
  box.dataset.viewId = modal.view_id;
  box.innerHTML = modal.html;
  const title = box.querySelector(".bk-modal-title");
  if (title) title.id = "modal-title";
  const first = box.querySelector("input, textarea, select");
  if (first) first.focus();
}

// --- what the person does ---------------------------------------------------------------

function formValues(root) {
  const values = {};
  for (const control of root.querySelectorAll("[data-block-id][data-action-id][data-kind]")) {
    const block = control.dataset.blockId;
    const action = control.dataset.actionId;
    values[block] = values[block] || {};
    const chosen = values[block][action] = values[block][action] || [];
    if (control.type === "checkbox" || control.type === "radio") {
      if (control.checked) chosen.push(control.value);
    } else if (control.tagName === "SELECT" && control.multiple) {
      for (const option of control.selectedOptions) chosen.push(option.value);
    } else if (control.value !== "") {
      chosen.push(control.value);
    }
  }
  return values;
}

function where(element) {
  const message = element.closest(".msg");
  if (message) return { in: here.in, ts: message.dataset.ts };
  const modal = element.closest("#modal");
  if (modal) return { view_id: modal.dataset.viewId, values: formValues(modal) };
  const home = element.closest("#home");
  if (home) return { in: "home", view_id: home.dataset.viewId, values: formValues(home) };
  return null;
}

// What a control sends as its action's value (render.py's docstring): a JSON list for the
// multi-valued ones, else the control's own value; null when there is nothing to send.
function actionValue(control) {
  if (control.type === "checkbox") {
    const group = control.closest(".bk-checkboxes") || control.parentElement;
    const checked = group.querySelectorAll('input[type="checkbox"][data-action]:checked');
    return JSON.stringify([...checked].map((box) => box.value));
  }
  if (control.tagName === "SELECT" && control.multiple) {
    return JSON.stringify([...control.selectedOptions].map((option) => option.value));
  }
  return control.value === "" ? null : control.value;
}

async function perform(element, value) {
  const action = JSON.parse(element.dataset.action);
  if (element.dataset.confirm && !(await ask("Are you sure?", element.dataset.confirm))) return;
  const place = where(element);
  if (!place) return;
  await act("/api/click", {
    ...place,
    block_id: action.block_id,
    action_id: action.action_id,
    value: value === undefined ? action.value : value,
  });
}

async function closeModal() {
  const viewId = $("#modal").dataset.viewId;
  if (viewId) await act("/api/close", { view_id: viewId });
}

document.addEventListener("click", async (event) => {
  const target = event.target;
  const link = target.closest("[data-conversation]");
  if (link) {
    event.preventDefault();
    await go(link.dataset.conversation);
    return;
  }
  if (target.closest("[data-shortcut]")) {
    await act("/api/shortcut", { in: here.in, ts: target.closest(".msg").dataset.ts });
    return;
  }
  if (target.closest(".bk-close")) {
    event.preventDefault();
    await closeModal();
    return;
  }
  const clicked = target.closest("button[data-action], a[data-action]");
  if (clicked) {
    if (clicked.tagName !== "A") event.preventDefault(); // a link opens; Slack still tells the app
    await perform(clicked);
  }
});

document.addEventListener("change", async (event) => {
  const control = event.target.closest("select[data-action], input[data-action]");
  if (!control || control.type === "text") return; // text inputs dispatch on Enter, below
  const value = actionValue(control);
  if (control.classList.contains("bk-overflow")) control.selectedIndex = 0; // a menu, not a choice
  if (value === null) return;
  await perform(control, value);
});

document.addEventListener("keydown", async (event) => {
  if (event.key === "Escape" && !$("#modal-backdrop").hidden) {
    event.preventDefault();
    await closeModal();
    return;
  }
  // A text input with dispatch_action sends its value on Enter, as in Slack (not the form).
  const input = event.target.closest && event.target.closest('input[type="text"][data-action]');
  if (input && event.key === "Enter") {
    event.preventDefault();
    const value = actionValue(input);
    if (value !== null) await perform(input, value);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  event.preventDefault();
  if (form.id === "composer") {
    const text = $("#compose").value.trim();
    if (!text) return;
    const sent = await act("/api/type", { in: here.in, text });
    if (sent) $("#compose").value = "";
    return;
  }
  if (form.closest("#modal")) {
    const modal = $("#modal");
    const answer = await act("/api/submit", { view_id: modal.dataset.viewId, values: formValues(modal) });
    if (answer && answer.errors) showErrors(modal, answer.errors);
  }
});

function showErrors(modal, errors) {
  for (const old of modal.querySelectorAll(".bk-error.from-saydo")) old.remove();
  for (const [blockId, text] of Object.entries(errors)) {
    const block = modal.querySelector(`.bk-block[data-block-id="${CSS.escape(blockId)}"]`);
    const note = document.createElement("div");
    note.className = "bk-error from-saydo";
    note.setAttribute("role", "alert");
    note.textContent = text;
    (block || modal.querySelector("form") || modal).append(note);
  }
}

$("#compose").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("#composer").requestSubmit();
  }
});

$("#as").addEventListener("change", async () => {
  here.as = $("#as").value;
  localStorage.setItem("saydo.as", here.as);
  here.in = "";
  here.messagesKey = here.homeKey = here.modalKey = null;
  await refresh(false);
});

async function go(conversation) {
  here.in = conversation;
  here.messagesKey = here.homeKey = null;
  await refresh(false);
  if (conversation === "home") {
    await act("/api/home", {}); // Slack tells the app each time the tab is opened
  } else {
    $("#compose").focus();
  }
}

for (const button of document.querySelectorAll("[data-by]")) {
  button.addEventListener("click", () => act("/api/advance", { by: button.dataset.by }, "Moving the clock on…"));
}
$("#advance-to").addEventListener("click", () => {
  const when = $("#advance-to-when").value;
  if (!when) { toast("Choose a date and time first.", true); return; }
  act("/api/advance", { to: when }, "Moving the clock on…");
});
$("#advance-to-when").addEventListener("input", showChosen);
$("#seed").addEventListener("click", async () => {
  const play = await ask(
    "Seed a quarter",
    "Play thirteen weeks of joint working from the playground's time: commitments, " +
      "deliveries, slips, coffees and summaries. It usually takes under ten seconds, and a " +
      "minute or more on a busy machine; the weeks are counted as they are played.",
    "Play the quarter",
  );
  if (play) act("/api/seed", {}, "Playing a quarter of joint working…");
});

// Long-poll: the server answers when anything changes (a nudge, a summary...), or after a while.
async function watch() {
  for (;;) {
    try {
      await refresh(true);
    } catch (_) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

refresh(false).then(watch, (error) => { toast(error.message, true); watch(); });
