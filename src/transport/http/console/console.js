// The eea-coverage console: plain JavaScript, no framework and no build step. Every figure on a
// page comes from the JSON API (POST /v1/<Service>/<Method>) called with the signed-in token.

const TOKEN_KEY = "eea-coverage.token";
const DAY_MS = 24 * 60 * 60 * 1000;
const SEVERITIES = ["SEVERITY_1", "SEVERITY_2", "SEVERITY_3", "SEVERITY_4"];
const AUDIENCES = [
  { label: "EEA_ONLY", plan: "PLAN_EEA_ONLY", eeaTagged: false },
  { label: "STANDARD, EEA-tagged", plan: "PLAN_STANDARD", eeaTagged: true },
  { label: "STANDARD, untagged", plan: "PLAN_STANDARD", eeaTagged: false },
];
const CAUSES = {
  GAP_CAUSE_BELOW_MINIMUM: "fewer eligible staff than the minimum",
  GAP_CAUSE_STAFF_ON_TIME_OFF: "eligible staff on time off",
  GAP_CAUSE_ONLY_INELIGIBLE_STAFF: "only staff not eligible for the plan on shift",
  GAP_CAUSE_NO_ONE_SCHEDULED: "no one scheduled",
};
const GAPS_SHOWN = 5;

const BRUSSELS_FIELDS = { timeZone: "Europe/Brussels", weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
const brussels = new Intl.DateTimeFormat("en-GB", BRUSSELS_FIELDS);
// For an instant of another year than this one, which would otherwise read as this year's.
const brusselsWithYear = new Intl.DateTimeFormat("en-GB", { ...BRUSSELS_FIELDS, year: "numeric" });
const brusselsYear = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Brussels", year: "numeric" });

class Refused extends Error {
  constructor(status, message, violations = []) {
    super(message);
    this.status = status;
    // The google.rpc.BadRequest field violations of a 400, each { field, description }.
    this.violations = violations;
  }
}

// The field violations of a google.rpc.Status body.
function violationsOf(body) {
  const badRequest = (body.details || []).find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.BadRequest");
  return badRequest ? badRequest.fieldViolations || [] : [];
}

const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// A token handed over in the URL fragment (`#token=...`, which the browser never sends) is kept
// for this tab and the fragment removed at once, so that it stays out of history and bookmarks.
function takeTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const handed = fragment.get("token");
  if (handed) {
    sessionStorage.setItem(TOKEN_KEY, handed.trim());
    history.replaceState(null, "", location.pathname + location.search + "#now");
  }
}

// A JSON API call's response, the body unread; a refusal (a google.rpc.Status) is thrown.
async function post(service, method, request, accept) {
  const response = await fetch(`/v1/${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept, authorization: `Bearer ${token()}` },
    body: JSON.stringify(request),
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Refused(response.status, body.message || `HTTP ${response.status}`, violationsOf(body));
  }
  return response;
}

async function call(service, method, request) {
  const response = await post(service, method, request, "application/json");
  return response.json().catch(() => ({}));
}

// Saves the answer to a call asked with `accept` as a file, under the name the server gives it
// (Content-Disposition). The bytes come from the fetch, which carries the token; the save is a
// click on a link to a blob: URL, a navigation of this page's own making, not a second request.
async function download(service, method, request, accept) {
  const response = await post(service, method, request, accept);
  const disposition = response.headers.get("content-disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  const name = named ? named[1] : "download";
  const url = URL.createObjectURL(await response.blob());
  const link = element("a", null, { href: url, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has read the blob once the click's download starts; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60 * 1000);
  return name;
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// An instant in Brussels wall time, with the UTC instant on hover.
function instant(text) {
  const when = new Date(text);
  const format = brusselsYear.format(when) === brusselsYear.format(new Date()) ? brussels : brusselsWithYear;
  return element("time", `${format.format(when)} Brussels`, { datetime: text, title: `${text} (UTC)` });
}

function showSignIn(message) {
  $("page").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = message || "";
  $("token").focus();
}

function showPage(...children) {
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  const page = $("page");
  page.replaceChildren(...children);
  page.hidden = false;
}

function showFailure(error) {
  if (error instanceof Refused && error.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(`The server did not accept the token (${error.message.replace(/[.\s]+$/, "")}). Sign in again with another, or open a new link from eea-coverage console.`);
  } else if (error instanceof Refused && error.status === 403) {
    showPage(element("h2", "Not allowed"), element("p", `Your role may not see this page. (${error.message})`, { class: "error" }));
  } else {
    showPage(element("h2", "Something went wrong"), element("p", error.message, { class: "error" }));
  }
}

function noRoster() {
  const steps = element("ol");
  steps.append(
    element("li", "Add the agents: eea-coverage agent set <agent-id> --name <name> --country <CC> --time-zone <zone>, or RosterService/UpsertAgents."),
    element("li", "Sync their shifts and time off from your workforce tool: eea-coverage import --source <name> --from <date> --to <date> <file.csv or file.ics> (docs/examples/ has sample files)."),
    element("li", "Reload this page."),
  );
  showPage(
    element("h2", "No roster yet"),
    element("p", "The server has no agents, so nobody can be on shift and every required hour is a gap."),
    steps,
    element("p", "README.md (Quick start) walks through it; docs/syncing.md describes the files and the sync.", { class: "note" }),
  );
}

// The gap of `gaps` that holds `now`, if any.
function gapAt(gaps, now) {
  return gaps.find((gap) => new Date(gap.startsAt) <= now && now < new Date(gap.endsAt));
}

// The first gap boundary after `now`: the end of the gap now, or the start of the next one.
function nextChange(gaps, now) {
  const boundaries = gaps
    .flatMap((gap) => [gap.startsAt, gap.endsAt])
    .filter((text) => new Date(text) > now)
    .sort((a, b) => new Date(a) - new Date(b));
  return boundaries[0];
}

function earliestUntil(agents) {
  const ends = agents.map((agent) => agent.until).filter(Boolean).sort((a, b) => new Date(a) - new Date(b));
  return ends[0];
}

async function audienceTable(audience, now) {
  const end = new Date(now.getTime() + 7 * DAY_MS);
  const question = { plan: audience.plan, eeaTagged: audience.eeaTagged, windowStart: now.toISOString() };
  // All at once: the browser spreads them over its connections.
  const [report, thisMinute, ...onShift] = await Promise.all([
    call("CoverageService", "GetCoverageReport", { ...question, windowEnd: end.toISOString() }),
    // One minute from now: whether now lies inside each severity's service hours (required time).
    call("CoverageService", "GetCoverageReport", { ...question, windowEnd: new Date(now.getTime() + 60 * 1000).toISOString() }),
    ...SEVERITIES.map((severity) =>
      call("CoverageService", "ListOnShift", { plan: audience.plan, eeaTagged: audience.eeaTagged, severity, at: now.toISOString() }),
    ),
  ]);
  const table = element("table");
  table.append(element("caption", audience.label));
  const head = element("tr");
  for (const title of ["Severity", "Hours", "Handled now?", "Eligible on shift now", "Changes next", "Gaps in the next 7 days"]) {
    head.append(element("th", title, { scope: "col" }));
  }
  const thead = element("thead");
  thead.append(head);
  table.append(thead);
  const body = element("tbody");
  SEVERITIES.forEach((severity, index) => {
    const requirement = (report.requirements || []).find((entry) => entry.severity === severity) || {};
    const gaps = requirement.gaps || [];
    const agents = onShift[index].agents || [];
    const current = gapAt(gaps, now);
    const row = element("tr");
    row.append(element("th", severity.replace("SEVERITY_", "Sev "), { scope: "row" }));
    row.append(element("td", requirement.hours || ""));
    const minute = (thisMinute.requirements || []).find((entry) => entry.severity === severity) || {};
    const requiredNow = Number(minute.requiredSeconds || 0) > 0;
    const handled = requiredNow && agents.length >= 1 && !current;
    const verdict = element("td", handled ? "Yes" : "No", { class: handled ? "yes" : "no" });
    if (!requiredNow) verdict.append(element("div", "outside this severity's service hours: tickets wait"));
    else if (current) verdict.append(element("div", `in a gap: ${CAUSES[current.cause] || current.cause}`));
    else if (!handled) verdict.append(element("div", "nobody eligible on shift"));
    row.append(verdict);
    row.append(element("td", agents.length));
    const changes = element("td");
    const boundary = nextChange(gaps, now);
    if (boundary) changes.append(current ? "gap ends " : "gap starts ", instant(boundary));
    const leaves = earliestUntil(agents);
    if (leaves) {
      if (boundary) changes.append(element("br"));
      changes.append("first eligible agent leaves ", instant(leaves));
    }
    if (!boundary && !leaves) changes.textContent = "no change in the next 7 days";
    row.append(changes);
    const gapCell = element("td");
    if (gaps.length === 0) {
      gapCell.textContent = "none";
    } else {
      const list = element("ul", null, { class: "gaps" });
      for (const gap of gaps.slice(0, GAPS_SHOWN)) {
        const item = element("li");
        item.append(instant(gap.startsAt), " to ", instant(gap.endsAt), `: ${CAUSES[gap.cause] || gap.cause} (${gap.eligibleOnShift || 0} eligible)`);
        list.append(item);
      }
      gapCell.append(list);
      if (gaps.length > GAPS_SHOWN) gapCell.append(element("div", `and ${gaps.length - GAPS_SHOWN} more`, { class: "note" }));
    }
    row.append(gapCell);
    body.append(row);
  });
  table.append(body);
  return table;
}

async function nowPage() {
  const roster = await call("RosterService", "ListAgents", { pageSize: 1 });
  if (!roster.agents || roster.agents.length === 0) {
    noRoster();
    return;
  }
  const now = new Date();
  const tables = await Promise.all(AUDIENCES.map((audience) => audienceTable(audience, now)));
  const refresh = element("button", "Refresh", { type: "button" });
  refresh.addEventListener("click", () => render());
  showPage(
    element("h2", "Now"),
    element("p", null, { class: "note" }),
    ...tables,
    refresh,
  );
  const note = $("page").querySelector("p.note");
  note.append("As of ", instant(now.toISOString()), ". Times are Brussels wall time; hover one for the UTC instant.");
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LISTED = 10;

// The wall-clock fields of `instant` in Brussels.
function brusselsWall(instant) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(instant);
  const field = (type) => Number(parts.find((part) => part.type === type).value);
  return { year: field("year"), month: field("month"), day: field("day"), hour: field("hour"), minute: field("minute") };
}

function brusselsDate(instant) {
  const wall = brusselsWall(instant);
  const two = (number) => String(number).padStart(2, "0");
  return `${wall.year}-${two(wall.month)}-${two(wall.day)}`;
}

// Midnight in Brussels at the start of `dateText` (YYYY-MM-DD), as an instant. Brussels changes
// its clocks at 02:00 and 03:00, so midnight always exists and is unique.
function brusselsMidnight(dateText) {
  const [year, month, day] = dateText.split("-").map(Number);
  const wanted = Date.UTC(year, month - 1, day);
  let guess = wanted;
  for (let round = 0; round < 2; round += 1) {
    const wall = brusselsWall(new Date(guess));
    guess -= Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) - wanted;
  }
  return new Date(guess);
}

function labelled(labelText, control) {
  const wrapper = element("div", null, { class: "field" });
  wrapper.append(element("label", labelText, { for: control.getAttribute("id") }), control);
  return wrapper;
}

// A page's question in its link, `#coverage?plan=PLAN_EEA_ONLY&from=2027-03-01&...`: the
// form's own fields only (plan, dates, headcount, an agent ID), never a display name.
function linkedQuestion() {
  const query = location.hash.indexOf("?");
  return new URLSearchParams(query < 0 ? "" : location.hash.slice(query + 1));
}

// Fills `fields` (name to control) from the page's link; answers whether the link asked anything.
function fillFromLink(fields) {
  const linked = linkedQuestion();
  let asked = false;
  for (const [name, control] of Object.entries(fields)) {
    if (!linked.has(name)) continue;
    asked = true;
    if (control.type === "checkbox") control.checked = linked.get(name) === "true";
    else control.value = linked.get(name);
  }
  return asked;
}

// Puts the question `fields` hold into the page's link, to copy or bookmark (no new history entry).
function linkTo(page, fields) {
  const query = new URLSearchParams();
  for (const [name, control] of Object.entries(fields)) {
    const value = control.type === "checkbox" ? String(control.checked) : control.value.trim();
    if (value) query.set(name, value);
  }
  history.replaceState(null, "", `#${page}?${query}`);
}

function coverageForm() {
  const form = element("form", null, { id: "coverage-form", class: "controls" });
  const plan = element("select", null, { id: "plan", name: "plan" });
  plan.append(element("option", "EEA_ONLY", { value: "PLAN_EEA_ONLY" }), element("option", "STANDARD", { value: "PLAN_STANDARD" }));
  const tagged = element("input", null, { id: "eea-tagged", name: "eeaTagged", type: "checkbox" });
  const today = brusselsDate(new Date());
  const inAWeek = brusselsDate(new Date(Date.now() + 7 * DAY_MS));
  const from = element("input", null, { id: "from", name: "from", type: "date", required: "", value: today });
  const to = element("input", null, { id: "to", name: "to", type: "date", required: "", value: inAWeek });
  const minStaff = element("input", null, { id: "min-staff", name: "minStaff", type: "number", min: "1", max: "1000", required: "", value: "1" });
  form.append(
    labelled("Plan", plan),
    labelled("EEA-tagged tickets (STANDARD only)", tagged),
    labelled("From (Brussels date)", from),
    labelled("To (Brussels date, exclusive)", to),
    labelled("Minimum headcount", minStaff),
    element("button", "Show coverage", { type: "submit" }),
  );
  return { form, plan, tagged, from, to, minStaff };
}

function heatMap(requirement, minStaff) {
  const table = element("table", null, { class: "heat" });
  table.append(
    element(
      "caption",
      `Lowest eligible headcount per hour of the week (Brussels), Sev ${requirement.severity.replace("SEVERITY_", "")}: ` +
        "red below the minimum, yellow exactly the minimum, green above it, grey not required",
    ),
  );
  const head = element("tr");
  head.append(element("th", "Day", { scope: "col" }));
  for (let hour = 0; hour < 24; hour += 1) head.append(element("th", String(hour).padStart(2, "0"), { scope: "col" }));
  const thead = element("thead");
  thead.append(head);
  table.append(thead);
  const body = element("tbody");
  const cells = requirement.hourOfWeek || [];
  WEEKDAYS.forEach((weekday, index) => {
    const row = element("tr");
    row.append(element("th", weekday, { scope: "row" }));
    for (let hour = 0; hour < 24; hour += 1) {
      const cell = cells.find((entry) => entry.weekday === index + 1 && entry.hour === hour);
      const when = `${weekday} ${String(hour).padStart(2, "0")}:00-${String(hour + 1).padStart(2, "0")}:00 Brussels`;
      if (!cell || !cell.required) {
        row.append(element("td", "", { class: "off", title: `${when}: not required` }));
        continue;
      }
      const lowest = cell.minEligible || 0;
      const level = lowest < minStaff ? "gap" : lowest === minStaff ? "thin" : "ok";
      row.append(element("td", lowest, { class: level, title: `${when}: lowest ${lowest} eligible` }));
    }
    body.append(row);
  });
  table.append(body);
  return table;
}

function stretchList(title, stretches, describe) {
  const section = element("div");
  section.append(element("h4", `${title} (${stretches.length})`));
  if (stretches.length === 0) {
    section.append(element("p", "none"));
    return section;
  }
  const list = element("ul", null, { class: "gaps" });
  for (const stretch of stretches.slice(0, LISTED)) {
    const item = element("li");
    item.append(instant(stretch.startsAt), " to ", instant(stretch.endsAt), describe(stretch));
    list.append(item);
  }
  section.append(list);
  if (stretches.length > LISTED) section.append(element("p", `and ${stretches.length - LISTED} more`, { class: "note" }));
  return section;
}

function coverageResult(report) {
  const result = [];
  const minStaff = report.minStaff || 1;
  const facts = element("p", null, { class: "note" });
  facts.append(
    `${report.plan.replace("PLAN_", "")}${report.plan === "PLAN_STANDARD" ? (report.eeaTagged ? ", EEA-tagged" : ", untagged") : ""}, `,
    instant(report.windowStart),
    " to ",
    instant(report.windowEnd),
    `, at least ${minStaff} eligible. Policy ${report.policyVersion}, tz database ${report.tzDatabaseVersion}, holidays ${report.holidayCalendar}.`,
  );
  result.push(facts);
  for (const requirement of report.requirements || []) {
    const section = element("section", null, { class: "requirement" });
    const percent = (100 * (requirement.coverageRatio ?? 0)).toFixed(1);
    section.append(element("h3", `Sev ${requirement.severity.replace("SEVERITY_", "")} (${requirement.hours}): ${percent}% covered`));
    section.append(heatMap(requirement, minStaff));
    section.append(
      stretchList("Gaps", requirement.gaps || [], (gap) => `: ${CAUSES[gap.cause] || gap.cause} (${gap.eligibleOnShift || 0} eligible)`),
      stretchList("Thin stretches, exactly the minimum", requirement.thin || [], () => ""),
    );
    result.push(section);
  }
  return result;
}

// The report's question as the Coverage and What if forms hold it: plan, EEA tag, a window of
// Brussels dates and the minimum headcount.
function coverageQuestion(controls) {
  return {
    plan: controls.plan.value,
    eeaTagged: controls.tagged.checked,
    windowStart: brusselsMidnight(controls.from.value).toISOString(),
    windowEnd: brusselsMidnight(controls.to.value).toISOString(),
    minStaff: Number(controls.minStaff.value),
  };
}

// The Coverage page's downloads: the report the `report` command writes, by media type.
const REPORT_DOWNLOADS = [
  { label: "Download CSV", accept: "text/csv" },
  { label: "Download JSON", accept: "application/vnd.eea-coverage.report+json" },
  { label: "Download SVG", accept: "image/svg+xml" },
];

// Buttons that download the report of `question` (the one shown, whatever the form holds now).
function reportDownloads(question) {
  const bar = element("div", null, { class: "downloads", role: "group", "aria-label": "Download this report" });
  const status = element("p", null, { class: "note", "aria-live": "polite" });
  for (const { label, accept } of REPORT_DOWNLOADS) {
    const button = element("button", label, { type: "button" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      status.className = "note";
      status.textContent = "Asking the server...";
      try {
        const name = await download("CoverageService", "GetCoverageReport", question, accept);
        status.textContent = `Downloaded ${name}.`;
      } catch (error) {
        if (error instanceof Refused && error.status === 401) {
          showFailure(error);
          return;
        }
        status.className = "error";
        status.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
    bar.append(button);
  }
  const wrapper = element("div");
  wrapper.append(bar, status);
  return wrapper;
}

async function coveragePage() {
  const controls = coverageForm();
  const output = element("div", null, { id: "coverage-result", "aria-live": "polite" });
  showPage(element("h2", "Coverage"), controls.form, output);
  const fields = { plan: controls.plan, eeaTagged: controls.tagged, from: controls.from, to: controls.to, minStaff: controls.minStaff };
  controls.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    linkTo("coverage", fields);
    if (controls.to.value <= controls.from.value) {
      output.replaceChildren(element("p", "The window must end after it starts.", { class: "error" }));
      return;
    }
    output.replaceChildren(element("p", "Asking the server...", { class: "note" }));
    try {
      const question = coverageQuestion(controls);
      const report = await call("CoverageService", "GetCoverageReport", question);
      output.replaceChildren(reportDownloads(question), ...coverageResult(report));
      markDrawn("coverage-report");
    } catch (error) {
      if (error instanceof Refused && error.status === 400) {
        output.replaceChildren(element("p", error.message, { class: "error" }));
      } else {
        showFailure(error);
      }
    }
  });
  if (fillFromLink(fields)) controls.form.requestSubmit();
}

// A proto3 JSON Duration ("39600s", "1.5s") as hours.
function hours(duration) {
  if (!duration) return 0;
  return Number(String(duration).replace(/s$/, "")) / 3600;
}

function hoursText(duration) {
  return `${hours(duration).toFixed(1)} h`;
}

// Every page of a listing: `field` of each answer, following nextPageToken.
async function allPages(service, method, request, field) {
  return (await allPagesOf(service, method, request, [field]))[field];
}

// Every page of a listing: for each of `fields`, that field of every answer, in order.
async function allPagesOf(service, method, request, fields) {
  const items = Object.fromEntries(fields.map((field) => [field, []]));
  let pageToken = "";
  do {
    const answer = await call(service, method, { ...request, pageToken });
    for (const field of fields) items[field].push(...(answer[field] || []));
    pageToken = answer.nextPageToken || "";
  } while (pageToken);
  return items;
}

// A form's output area: a 400 (or a 413, a body over the server's limit) shows the server's
// reason there, anything else the page's failure.
function answerInto(output, error) {
  if (error instanceof Refused && (error.status === 400 || error.status === 413)) {
    const reason = element("div", null, { class: "error" });
    reason.append(element("p", error.message));
    // The message names the first problems, as many as fit; the details list more (a shift file
    // can have many bad lines), so they are listed when the message leaves any out.
    const named = (violation) => error.message.includes(`${violation.field}: ${violation.description}`);
    if (!error.violations.every(named)) {
      const list = element("ul");
      for (const violation of error.violations) list.append(element("li", `${violation.field}: ${violation.description}`));
      reason.append(list);
    }
    output.replaceChildren(reason);
  } else {
    showFailure(error);
  }
}

function windowFields(prefix, days) {
  const from = element("input", null, { id: `${prefix}-from`, name: "from", type: "date", required: "", value: brusselsDate(new Date()) });
  const to = element("input", null, {
    id: `${prefix}-to`,
    name: "to",
    type: "date",
    required: "",
    value: brusselsDate(new Date(Date.now() + days * DAY_MS)),
  });
  return { from, to };
}

function headedTable(caption, titles) {
  const table = element("table");
  if (caption) table.append(element("caption", caption));
  const head = element("tr");
  for (const title of titles) head.append(element("th", title, { scope: "col" }));
  const thead = element("thead");
  thead.append(head);
  const body = element("tbody");
  table.append(thead, body);
  return { table, body };
}

function row(...cells) {
  const tr = element("tr");
  for (const cell of cells) {
    if (cell instanceof Node) {
      const td = element("td");
      td.append(cell);
      tr.append(td);
    } else {
      tr.append(element("td", cell));
    }
  }
  return tr;
}

const RULES = {
  WORKING_TIME_RULE_DAILY_REST: "daily rest",
  WORKING_TIME_RULE_WEEKLY_REST: "weekly rest",
  WORKING_TIME_RULE_AVERAGE_WEEKLY_WORK: "average weekly work",
};

function breachList(breaches) {
  const list = element("ul", null, { class: "gaps" });
  for (const breach of breaches) {
    const item = element("li");
    item.append(
      `${RULES[breach.rule] || breach.rule}: `,
      instant(breach.windowStart),
      " to ",
      instant(breach.windowEnd),
      `, measured ${hoursText(breach.measured)} against a limit of ${hoursText(breach.limit)}; shifts ${(breach.shiftIds || []).join(", ") || "none"}`,
    );
    list.append(item);
  }
  return list;
}

function workingTimeResult(agents, first) {
  const facts = element("p", null, { class: "note" });
  facts.append(
    instant(first.windowStart),
    " to ",
    instant(first.windowEnd),
    `: ${agents.length} ${agents.length === 1 ? "agent" : "agents"}. Policy ${first.policyVersion}, tz database ${first.tzDatabaseVersion}.`,
  );
  if (agents.length === 0) return [facts, element("p", "No agent in the EEA in this window.")];
  const { table, body } = headedTable("Working time per agent", [
    "Agent",
    "Worked",
    "Night work",
    "Working days / night-working days",
    "Night worker",
    "Breaches",
  ]);
  for (const agent of agents) {
    const breaches = agent.breaches || [];
    const cell = element("div", String(breaches.length));
    if (breaches.length > 0) cell.append(breachList(breaches));
    const tr = row(
      `${agent.agentId} (${agent.timeZone})`,
      hoursText(agent.worked),
      hoursText(agent.nightWork),
      `${agent.workingDays || 0} / ${agent.nightWorkingDays || 0}`,
      agent.nightWorker ? "yes" : "no",
      cell,
    );
    body.append(tr);
  }
  return [facts, table];
}

async function workingTimePage() {
  const form = element("form", null, { id: "working-time-form", class: "controls" });
  const { from, to } = windowFields("wt", 28);
  const agentId = textInput("wt-agent", "agentId");
  form.append(
    labelled("From (Brussels date)", from),
    labelled("To (Brussels date, exclusive)", to),
    labelled("Agent ID (optional; empty means every EEA agent)", agentId),
    element("button", "Show working time", { type: "submit" }),
  );
  const output = element("div", null, { id: "working-time-result", "aria-live": "polite" });
  showPage(element("h2", "Working time"), form, output);
  const fields = { from, to, agent: agentId };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    linkTo("working-time", fields);
    if (to.value <= from.value) {
      output.replaceChildren(element("p", "The window must end after it starts.", { class: "error" }));
      return;
    }
    output.replaceChildren(element("p", "Asking the server...", { class: "note" }));
    const request = {
      windowStart: brusselsMidnight(from.value).toISOString(),
      windowEnd: brusselsMidnight(to.value).toISOString(),
      pageSize: 1000,
    };
    if (agentId.value.trim()) request.agentIds = [agentId.value.trim()];
    try {
      const agents = [];
      let first = null;
      let pageToken = "";
      do {
        const answer = await call("CoverageService", "GetWorkingTimeReport", { ...request, pageToken });
        first = first || answer;
        agents.push(...(answer.agents || []));
        pageToken = answer.nextPageToken || "";
      } while (pageToken);
      output.replaceChildren(...workingTimeResult(agents, first));
    } catch (error) {
      answerInto(output, error);
    }
  });
  if (fillFromLink(fields)) form.requestSubmit();
}

const BASES = {
  TRANSFER_BASIS_EEA: "EEA",
  TRANSFER_BASIS_ADEQUACY_FULL: "adequacy decision",
  TRANSFER_BASIS_ADEQUACY_PARTIAL: "partial adequacy decision",
  TRANSFER_BASIS_CONTRACTUAL: "standard contractual clauses",
  TRANSFER_BASIS_CONSENT_ONLY: "only with the customer's consent for the ticket",
};

function serviceHoursText(hoursRule) {
  if (hoursRule.hours !== "business") return hoursRule.hours || "";
  return `business: ${hoursRule.opensLocal}-${hoursRule.closesLocal} ${hoursRule.timeZone}, holidays ${hoursRule.holidayCalendar || "none"}`;
}

async function policyPage() {
  const policy = await call("PolicyService", "GetPolicy", {});
  const facts = element("p", null, { class: "note" });
  facts.append(`Policy ${policy.policyVersion}, tz database ${policy.tzDatabaseVersion}`);
  if (policy.effectiveAt) facts.append(", effective ", instant(policy.effectiveAt));
  facts.append(".");

  const plans = headedTable("Service hours per plan", ["Plan", "Severity", "Hours"]);
  for (const plan of policy.plans || []) {
    for (const hoursRule of plan.serviceHours || []) {
      plans.body.append(row(plan.plan.replace("PLAN_", ""), hoursRule.severity.replace("SEVERITY_", "Sev "), serviceHoursText(hoursRule)));
    }
  }

  const countries = headedTable("Countries whose staff may handle EEA-tagged STANDARD tickets, in force now", ["Country", "Code", "Basis"]);
  for (const country of (policy.countries || []).filter((entry) => entry.inForce)) {
    const basis = BASES[country.basis] || country.basis;
    countries.body.append(row(country.name, country.country, country.scope ? `${basis} (${country.scope})` : basis));
  }

  const limits = headedTable("Working-time limits: the defaults, then each country with its own", [
    "Country",
    "Daily rest",
    "Weekly rest",
    "Average weekly work",
    "Reference weeks",
    "Night time",
    "Night worker from",
    "Source",
  ]);
  for (const entry of policy.workingTime || []) {
    limits.body.append(
      row(
        entry.country || "defaults",
        hoursText(entry.dailyRest),
        hoursText(entry.weeklyRest),
        hoursText(entry.maxAverageWeeklyWork),
        entry.referenceWeeks || 0,
        `${entry.nightStarts}-${entry.nightEnds}`,
        `${hoursText(entry.nightWorkerMinNightWork)} of night work a day`,
        entry.source || "",
      ),
    );
  }
  showPage(element("h2", "Policy"), facts, plans.table, countries.table, limits.table);
}

const AUDIT_SHOWN = 100;
const AUDIT_PAGES = 100;

// The latest events that match `filters`, newest first: the trail is listed oldest first, so the
// page reads it from `since` on and keeps the last AUDIT_SHOWN.
async function latestAuditEvents(filters) {
  let latest = [];
  let pageToken = "";
  let pages = 0;
  do {
    const answer = await call("PolicyService", "ListAuditEvents", { ...filters, pageSize: 200, pageToken });
    latest = latest.concat(answer.events || []).slice(-AUDIT_SHOWN);
    pageToken = answer.nextPageToken || "";
    pages += 1;
  } while (pageToken && pages < AUDIT_PAGES);
  return { events: latest.reverse(), complete: !pageToken };
}

function auditResult({ events, complete }) {
  const result = [];
  if (!complete) {
    result.push(element("p", `More than ${AUDIT_PAGES * 200} events match: these are not the latest. Narrow the filters or pick a later date.`, { class: "error" }));
  }
  if (events.length === 0) {
    result.push(element("p", "No event matches."));
    return result;
  }
  const { table, body } = headedTable(`The latest ${events.length} matching events, newest first`, ["Time", "Caller", "RPC", "Summary", "Affected", "Request ID"]);
  for (const event of events) {
    const affected = (event.affected || []).map((entity) => `${entity.kind.replace("AUDIT_ENTITY_KIND_", "").toLowerCase()} ${entity.id}`);
    const count = Number(event.affectedCount || 0);
    const more = count > affected.length ? ` and ${count - affected.length} more` : "";
    body.append(row(instant(event.recordedAt), event.caller, event.rpc, event.summary || "", `${affected.join(", ")}${more}` || "none", event.requestId || ""));
  }
  result.push(table);
  return result;
}

async function auditPage() {
  const form = element("form", null, { id: "audit-form", class: "controls" });
  const since = element("input", null, { id: "audit-since", name: "since", type: "date", required: "", value: brusselsDate(new Date(Date.now() - 7 * DAY_MS)) });
  const caller = textInput("audit-caller", "caller", { placeholder: "token:wfm-sync" });
  const rpc = textInput("audit-rpc", "rpc", { placeholder: "eeacoverage.v1.RosterService/SyncShifts" });
  form.append(
    labelled("Since (Brussels date)", since),
    labelled("Caller (exactly as recorded, optional)", caller),
    labelled("RPC (exactly as recorded, optional)", rpc),
    element("button", "Show events", { type: "submit" }),
  );
  const output = element("div", null, { id: "audit-result", "aria-live": "polite" });
  const filters = () => {
    const request = { since: brusselsMidnight(since.value).toISOString() };
    if (caller.value.trim()) request.caller = caller.value.trim();
    if (rpc.value.trim()) request.rpc = rpc.value.trim();
    return request;
  };
  // The first answer decides whether the page shows at all (admins only: a 403 says so).
  const first = await latestAuditEvents(filters());
  output.replaceChildren(...auditResult(first));
  showPage(element("h2", "Audit"), form, output);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.replaceChildren(element("p", "Asking the server...", { class: "note" }));
    try {
      output.replaceChildren(...auditResult(await latestAuditEvents(filters())));
    } catch (error) {
      answerInto(output, error);
    }
  });
}

// Where `agent` works from at `at`, and its first location change after `at`.
function locationAt(agent, at) {
  const changes = (agent.locationChanges || []).slice().sort((a, b) => new Date(a.effectiveAt) - new Date(b.effectiveAt));
  let country = agent.country;
  for (const change of changes) {
    if (new Date(change.effectiveAt) <= at) country = change.country;
  }
  return { country, next: changes.find((change) => new Date(change.effectiveAt) > at) };
}

function severitiesText(severities) {
  return severities && severities.length > 0 ? severities.map((severity) => severity.replace("SEVERITY_", "Sev ")).join(", ") : "all";
}

function shiftWhen(shift) {
  const when = element("span");
  if (shift.oneOff) {
    when.append(instant(shift.oneOff.startsAt), " to ", instant(shift.oneOff.endsAt));
  } else if (shift.recurring) {
    const rule = shift.recurring;
    when.append(`from ${rule.startLocal} to ${rule.endTime} ${rule.timeZone}, ${rule.rrule}`);
    if ((rule.exdates || []).length > 0) when.append(`, except ${rule.exdates.join(", ")}`);
  }
  return when;
}

const brusselsClock = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Brussels", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const brusselsDay = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Brussels", weekday: "short", day: "numeric", month: "short" });

// The Brussels date `days` after `dateText` (YYYY-MM-DD).
function addDays(dateText, days) {
  const [year, month, day] = dateText.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

// A Brussels wall-clock time (the UTC instant on hover); the day's end reads 24:00.
function clockTime(when, dayEnd) {
  const text = when.getTime() === dayEnd.getTime() ? "24:00" : brusselsClock.format(when);
  return element("time", text, { datetime: when.toISOString(), title: `${when.toISOString()} (UTC)` });
}

// The parts of `intervals` ({ start, end, label }) on the Brussels day [dayStart, dayEnd), as a list.
function dayParts(intervals, dayStart, dayEnd) {
  const parts = intervals
    .map((interval) => ({ ...interval, start: new Date(Math.max(interval.start, dayStart)), end: new Date(Math.min(interval.end, dayEnd)) }))
    .filter((part) => part.start < part.end);
  if (parts.length === 0) return element("span", "none");
  const list = element("ul", null, { class: "gaps" });
  for (const part of parts) {
    const item = element("li");
    item.append(clockTime(part.start, dayEnd), "\u2013", clockTime(part.end, dayEnd), ` ${part.label}`);
    list.append(item);
  }
  return list;
}

// One agent's week from the Brussels date `firstDay`: each day's shift occurrences (as the
// server expands them) and time off, then the shifts themselves.
async function agentWeek(agent, output, firstDay = brusselsDate(new Date())) {
  const bounds = Array.from({ length: 8 }, (_, index) => brusselsMidnight(addDays(firstDay, index)));
  const window = { startAt: bounds[0].toISOString(), endAt: bounds[7].toISOString() };
  output.replaceChildren(element("p", "Asking the server...", { class: "note" }));
  const [listing, timeOff] = await Promise.all([
    allPagesOf("RosterService", "ListShifts", { agentId: agent.agentId, window, withOccurrences: true, pageSize: 1000 }, ["shifts", "occurrences"]),
    allPages("RosterService", "ListTimeOff", { agentId: agent.agentId, window, pageSize: 1000 }, "timeOff"),
  ]);
  const shifts = listing.shifts;
  const working = listing.occurrences.map((occurrence) => ({
    start: new Date(occurrence.startsAt),
    end: new Date(occurrence.endsAt),
    label: `(shift ${occurrence.shiftId})`,
  }));
  const away = timeOff.map((entry) => ({ start: new Date(entry.startsAt), end: new Date(entry.endsAt), label: `(time off ${entry.timeOffId})` }));
  const heading = element("h3", `${agent.displayName || agent.agentId} (${agent.agentId}): the week from ${brusselsDay.format(bounds[0])}`, { tabindex: "-1" });
  const week = headedTable("On shift and away, day by day (Brussels time)", ["Day", "On shift", "Time off"]);
  week.table.setAttribute("id", "roster-week");
  for (let index = 0; index < 7; index += 1) {
    const [dayStart, dayEnd] = [bounds[index], bounds[index + 1]];
    week.body.append(row(brusselsDay.format(dayStart), dayParts(working, dayStart, dayEnd), dayParts(away, dayStart, dayEnd)));
  }
  const earlier = element("button", "Previous week", { type: "button" });
  const later = element("button", "Next week", { type: "button" });
  earlier.addEventListener("click", () => agentWeek(agent, output, addDays(firstDay, -7)).catch((error) => answerInto(output, error)));
  later.addEventListener("click", () => agentWeek(agent, output, addDays(firstDay, 7)).catch((error) => answerInto(output, error)));
  const moves = element("div", null, { class: "controls" });
  moves.append(earlier, later);
  const shiftTable = headedTable("The shifts behind them", ["Shift", "When", "Country", "Severities", "Source"]);
  for (const shift of shifts) {
    shiftTable.body.append(row(shift.shiftId, shiftWhen(shift), shift.country || "the agent's", severitiesText(shift.severities), shift.source || "direct write"));
  }
  output.replaceChildren(heading, moves, week.table, shifts.length > 0 ? shiftTable.table : element("p", "No shift this week."));
  heading.focus();
}

async function rosterPage() {
  const agents = await allPages("RosterService", "ListAgents", { pageSize: 1000 }, "agents");
  if (agents.length === 0) {
    noRoster();
    return;
  }
  const now = new Date();
  const located = agents.map((agent) => ({ agent, ...locationAt(agent, now) }));
  const form = element("form", null, { id: "roster-form", class: "controls" });
  const country = element("select", null, { id: "roster-country", name: "country" });
  country.append(element("option", "Any country", { value: "" }));
  for (const code of [...new Set(located.map((entry) => entry.country))].sort()) country.append(element("option", code, { value: code }));
  const severity = element("select", null, { id: "roster-severity", name: "severity" });
  severity.append(element("option", "Any severity", { value: "" }));
  for (const name of SEVERITIES) severity.append(element("option", name.replace("SEVERITY_", "Sev "), { value: name }));
  form.append(labelled("Country now", country), labelled("Handles severity", severity));
  const count = element("p", null, { class: "note", "aria-live": "polite" });
  const list = element("div", null, { id: "roster-list" });
  const detail = element("div", null, { id: "roster-agent", "aria-live": "polite" });

  const draw = () => {
    const shown = located.filter(
      (entry) =>
        (!country.value || entry.country === country.value) &&
        (!severity.value || (entry.agent.severities || []).length === 0 || entry.agent.severities.includes(severity.value)),
    );
    count.textContent = `${shown.length} of ${agents.length} agents.`;
    const { table, body } = headedTable("Agents", ["Agent", "Name", "Country now", "Next location change", "Time zone", "Severities", "Shifts and time off"]);
    for (const entry of shown) {
      const next = element("span", "none");
      if (entry.next) next.replaceChildren(`${entry.next.country} from `, instant(entry.next.effectiveAt));
      const button = element("button", "Week", { type: "button", "aria-label": `Week of ${entry.agent.agentId}: shifts and time off day by day` });
      button.addEventListener("click", () => agentWeek(entry.agent, detail).catch((error) => answerInto(detail, error)));
      body.append(
        row(entry.agent.agentId, entry.agent.displayName || "", entry.country, next, entry.agent.timeZone || "", severitiesText(entry.agent.severities), button),
      );
    }
    list.replaceChildren(table);
  };
  form.addEventListener("submit", (event) => event.preventDefault());
  country.addEventListener("change", draw);
  severity.addEventListener("change", draw);
  draw();
  showPage(element("h2", "Roster"), form, count, list, detail);
}

function textInput(id, name, extra = {}) {
  return element("input", null, { id, name, type: "text", spellcheck: "false", autocomplete: "off", ...extra });
}

function fieldset(legend, ...fields) {
  const group = element("fieldset", null, { class: "controls" });
  group.append(element("legend", legend), ...fields);
  return group;
}

function gapItems(gaps) {
  if (gaps.length === 0) return element("span", "none");
  const list = element("ul", null, { class: "gaps" });
  for (const gap of gaps) {
    const item = element("li");
    item.append(instant(gap.startsAt), " to ", instant(gap.endsAt), `: ${CAUSES[gap.cause] || gap.cause} (${gap.eligibleOnShift || 0} eligible)`);
    list.append(item);
  }
  return list;
}

const SYNC_COUNTS = [
  ["Shifts", "shifts"],
  ["Time off", "timeOff"],
  ["Agents", "agents"],
];

// What the file would do as a sync: SyncShifts's dry-run counts, and the entries left out.
function syncFileResult(outcome) {
  const result = [element("h3", "The file as a sync")];
  const { table, body } = headedTable("What syncing the file would change (a dry run's counts)", ["Entries", "Created", "Updated", "Deleted", "Unchanged"]);
  for (const [label, field] of SYNC_COUNTS) {
    const counts = outcome[field] || {};
    body.append(row(label, counts.created || 0, counts.updated || 0, counts.deleted || 0, counts.unchanged || 0));
  }
  result.push(table);
  const outside = outcome.outsideWindow || 0;
  result.push(
    element(
      "p",
      outside > 0
        ? `${outside} ${outside === 1 ? "entry" : "entries"} of the file start outside the window and would be left out.`
        : "No entry of the file starts outside the window.",
      { class: "note" },
    ),
  );
  return result;
}

function whatIfResult(answer) {
  const result = [];
  if (answer.syncFile) result.push(...syncFileResult(answer.syncFile));
  const requirements = headedTable("Gaps per requirement, compared with the roster as it is", ["Requirement", "Gaps opened", "Gaps closed"]);
  for (const change of answer.gapChanges || []) {
    const audience = `${change.plan.replace("PLAN_", "")}${change.plan === "PLAN_STANDARD" ? (change.eeaTagged ? ", EEA-tagged" : ", untagged") : ""}`;
    requirements.body.append(row(`${audience}, ${change.severity.replace("SEVERITY_", "Sev ")}`, gapItems(change.opened || []), gapItems(change.closed || [])));
  }
  result.push((answer.gapChanges || []).length > 0 ? requirements.table : element("p", "No gap opens or closes."));
  const warnings = answer.workingTimeWarnings || [];
  result.push(element("h3", `Working-time warnings (${warnings.length})`));
  if (warnings.length === 0) {
    result.push(element("p", "none"));
  } else {
    const { table, body } = headedTable(null, ["Agent", "Breach"]);
    for (const warning of warnings) body.append(row(warning.agentId, breachList([warning.breach])));
    result.push(table);
  }
  if ((answer.touchedAgentIds || []).length > 0) {
    result.push(element("p", `Agents the changes touch: ${answer.touchedAgentIds.join(", ")}.`, { class: "note" }));
  }
  return result;
}

// The largest shift file a simulation takes (SimulateCoverage's limit, MAX_SYNC_FILE_BYTES).
const MAX_SYNC_FILE_BYTES = 8 * 1024 * 1024;

// A file's SyncFileFormat from its name, then its type; null when neither says.
function syncFileFormat(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv") || file.type === "text/csv") return "SYNC_FILE_FORMAT_CSV";
  if (/\.(ics|ical|icalendar)$/.test(name) || file.type === "text/calendar") return "SYNC_FILE_FORMAT_ICALENDAR";
  return null;
}

// A file's bytes in base64, as the proto3 JSON mapping writes `bytes`.
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(String(reader.result).replace(/^data:[^,]*,/, "")));
    reader.addEventListener("error", () => reject(new Error(`The file could not be read: ${reader.error ? reader.error.message : "unknown error"}`)));
    reader.readAsDataURL(file);
  });
}

function mebibytes(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function syncFileFields() {
  const file = element("input", null, { id: "sync-file", name: "syncFile", type: "file", accept: ".csv,.ics,text/csv,text/calendar" });
  const source = textInput("sync-source", "syncSource", { placeholder: "wfm" });
  const format = element("select", null, { id: "sync-format", name: "syncFormat" });
  format.append(
    element("option", "From the file's name", { value: "" }),
    element("option", "CSV", { value: "SYNC_FILE_FORMAT_CSV" }),
    element("option", "iCalendar", { value: "SYNC_FILE_FORMAT_ICALENDAR" }),
  );
  const agentId = textInput("sync-agent", "syncAgent");
  const timeZone = textInput("sync-time-zone", "syncTimeZone", { placeholder: "Europe/Dublin" });
  const group = fieldset(
    "A shift file (CSV or iCalendar)",
    labelled("Shift file", file),
    labelled("Source (as for import --source; required with a file)", source),
    labelled("Format", format),
    labelled("iCalendar: agent ID of every event (optional)", agentId),
    labelled("iCalendar: time zone of times without one (optional)", timeZone),
  );
  return { group, file, source, format, agentId, timeZone };
}

// The request's syncFile for the chosen file, or a sentence saying what is missing.
async function syncFileRequest(fields) {
  const file = fields.file.files[0];
  if (file.size > MAX_SYNC_FILE_BYTES) {
    return { refusal: `${file.name} is ${mebibytes(file.size)}; a simulated shift file may be at most ${mebibytes(MAX_SYNC_FILE_BYTES)} (8,388,608 bytes). Export a shorter window from the workforce tool.` };
  }
  const source = fields.source.value.trim();
  if (!source) return { refusal: "A shift file needs its source: the WFM source name it would be synced for, as for eea-coverage import --source." };
  const format = fields.format.value || syncFileFormat(file);
  if (!format) return { refusal: `The format of ${file.name} is not clear from its name: pick CSV or iCalendar.` };
  const syncFile = { source, format, content: await base64Of(file) };
  const agentId = fields.agentId.value.trim();
  const timeZone = fields.timeZone.value.trim();
  if (format === "SYNC_FILE_FORMAT_ICALENDAR") {
    if (agentId) syncFile.agentId = agentId;
    if (timeZone) syncFile.timeZone = timeZone;
  } else if (agentId || timeZone) {
    return { refusal: "The agent ID and time zone apply to iCalendar files only: clear them for a CSV file." };
  }
  return { syncFile };
}

async function whatIfPage() {
  const controls = coverageForm();
  controls.form.setAttribute("id", "what-if-form");
  controls.form.querySelector("button[type=submit]").remove();
  const absent = textInput("absent-agent", "absentAgent");
  const absentFrom = element("input", null, { id: "absent-from", name: "absentFrom", type: "date" });
  const absentTo = element("input", null, { id: "absent-to", name: "absentTo", type: "date" });
  const moved = textInput("moved-agent", "movedAgent");
  const movedTo = textInput("moved-country", "movedCountry", { maxlength: "2", pattern: "[A-Za-z]{2}", size: "3" });
  const movedFrom = element("input", null, { id: "moved-from", name: "movedFrom", type: "date" });
  const shiftFile = syncFileFields();
  controls.form.append(
    fieldset("Absence (optional)", labelled("Absent agent ID", absent), labelled("Absent from (Brussels date)", absentFrom), labelled("Until (Brussels date, exclusive)", absentTo)),
    fieldset("Relocation (optional)", labelled("Relocated agent ID", moved), labelled("Country (ISO code, for example PT)", movedTo), labelled("From (Brussels date)", movedFrom)),
    shiftFile.group,
    element("button", "Simulate", { type: "submit" }),
  );
  const output = element("div", null, { id: "what-if-result", "aria-live": "polite" });
  showPage(element("h2", "What if"), controls.form, output);
  controls.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const refuse = (message) => output.replaceChildren(element("p", message, { class: "error" }));
    if (controls.to.value <= controls.from.value) return refuse("The window must end after it starts.");
    const changes = [];
    if (absent.value.trim()) {
      if (!absentFrom.value || !absentTo.value || absentTo.value <= absentFrom.value) return refuse("An absence needs two dates, the second after the first.");
      changes.push({
        absence: {
          agentId: absent.value.trim(),
          interval: { startAt: brusselsMidnight(absentFrom.value).toISOString(), endAt: brusselsMidnight(absentTo.value).toISOString() },
        },
      });
    }
    if (moved.value.trim()) {
      if (!/^[A-Za-z]{2}$/.test(movedTo.value.trim()) || !movedFrom.value) return refuse("A relocation needs a two-letter country code and a date.");
      changes.push({
        relocation: { agentId: moved.value.trim(), effectiveAt: brusselsMidnight(movedFrom.value).toISOString(), country: movedTo.value.trim().toUpperCase() },
      });
    }
    const request = coverageQuestion(controls);
    if (shiftFile.file.files.length > 0) {
      // The service takes either changes or a file (SimulateCoverage refuses both).
      if (changes.length > 0) return refuse("A shift file is simulated on its own: clear the absence and the relocation, or the file.");
      let read;
      try {
        read = await syncFileRequest(shiftFile);
      } catch (error) {
        return refuse(error.message);
      }
      if (read.refusal) return refuse(read.refusal);
      request.syncFile = read.syncFile;
    } else if (changes.length === 0) {
      return refuse("Give an absence, a relocation, both, or a shift file.");
    } else {
      request.changes = changes;
    }
    output.replaceChildren(element("p", "Asking the server...", { class: "note" }));
    try {
      const answer = await call("CoverageService", "SimulateCoverage", request);
      output.replaceChildren(...whatIfResult(answer));
    } catch (error) {
      answerInto(output, error);
    }
  });
}

const PAGES = {
  now: nowPage,
  coverage: coveragePage,
  "working-time": workingTimePage,
  roster: rosterPage,
  "what-if": whatIfPage,
  policy: policyPage,
  audit: auditPage,
};

function currentPage() {
  const name = location.hash.slice(1).split("?")[0];
  return Object.hasOwn(PAGES, name) ? name : "now";
}

// A performance mark in the frame that draws what a page (or a report) has just put in place,
// `eea-coverage:drawn:<what>`, for the browser's own tools and the render benchmark to time.
function markDrawn(what) {
  requestAnimationFrame(() => performance.mark(`eea-coverage:drawn:${what}`));
}

async function render() {
  const name = currentPage();
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!token()) {
    showSignIn();
    return;
  }
  try {
    await PAGES[name]();
    $("main").focus({ preventScroll: true });
    markDrawn(name);
  } catch (error) {
    showFailure(error);
  }
}

function start() {
  takeTokenFromFragment();
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = $("token").value.trim();
    $("token").value = "";
    if (typed) {
      sessionStorage.setItem(TOKEN_KEY, typed);
      render();
    }
  });
  window.addEventListener("hashchange", () => render());
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("Signed out.");
  });
  render();
}

start();
