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

const brussels = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Brussels",
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
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

async function call(service, method, request) {
  const response = await fetch(`/v1/${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token()}` },
    body: JSON.stringify(request),
    credentials: "omit",
    cache: "no-store",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Refused(response.status, body.message || `HTTP ${response.status}`);
  }
  return body;
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
  return element("time", `${brussels.format(when)} Brussels`, { datetime: text, title: `${text} (UTC)` });
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
    showSignIn(`The server did not accept the token: ${error.message} Sign in again.`);
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
  const report = await call("CoverageService", "GetCoverageReport", {
    plan: audience.plan,
    eeaTagged: audience.eeaTagged,
    windowStart: now.toISOString(),
    windowEnd: end.toISOString(),
  });
  const onShift = await Promise.all(
    SEVERITIES.map((severity) =>
      call("CoverageService", "ListOnShift", {
        plan: audience.plan,
        eeaTagged: audience.eeaTagged,
        severity,
        at: now.toISOString(),
      }),
    ),
  );
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
    const handled = agents.length >= 1 && !current;
    const verdict = element("td", handled ? "Yes" : "No", { class: handled ? "yes" : "no" });
    if (current) verdict.append(element("div", `in a gap: ${CAUSES[current.cause] || current.cause}`));
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

async function render() {
  if (!token()) {
    showSignIn();
    return;
  }
  try {
    await nowPage();
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
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("Signed out.");
  });
  render();
}

start();
