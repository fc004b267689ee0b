// Small progressive enhancements. Pages work without this file; htmx does the requests.
(function () {
  "use strict";

  function rows(list) { return Array.from(list.querySelectorAll("[data-row]")); }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") !== null;
  }

  let lastIndex = 0;

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?" && !typing(event.target)) {
      const help = document.getElementById("keys-help");
      if (help && !help.open) { help.showModal(); event.preventDefault(); }
      return;
    }
    if (event.key === "/" && !typing(event.target)) {
      const search = document.querySelector("input[type=search]");
      if (search) { search.focus(); search.select(); event.preventDefault(); }
      return;
    }
    const list = document.querySelector("[data-keyboard-list]");
    if (!list || typing(event.target)) return;
    const all = rows(list);
    if (!all.length) return;
    const current = event.target.closest ? event.target.closest("[data-row]") : null;
    let index = current ? all.indexOf(current) : -1;
    const key = event.key;
    if (key === "j" || key === "ArrowDown") { index = Math.min(index + 1, all.length - 1); }
    else if (key === "k" || key === "ArrowUp") { index = Math.max(index - 1, 0); }
    else if (current && (key === "x" || key === " ")) {
      const box = current.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
      event.preventDefault();
      return;
    } else if (current && key === "Enter" && event.target === current) {
      window.location.href = current.dataset.href;
      return;
    } else if (current) {
      const action = current.querySelector('[data-key="' + key + '"]');
      if (action) { lastIndex = index; action.click(); event.preventDefault(); }
      return;
    } else { return; }
    all[index].focus();
    lastIndex = index;
    event.preventDefault();
  });

  // After a list refresh, keep the keyboard position so review can continue without the mouse.
  document.addEventListener("htmx:afterSwap", function (event) {
    const list = document.querySelector("[data-keyboard-list]");
    if (!list || !list.contains(document.activeElement) && document.activeElement !== document.body) return;
    const all = rows(list);
    if (all.length) all[Math.min(lastIndex, all.length - 1)].focus();
  });

  // Review page: one keystroke per decision (see the ? help on the page). A digit sets the
  // overall score only; an axis key (F, C, V, H) arms that rubric axis for the next digit.
  let armedAxis = null;
  function arm(form, set) {
    form.querySelectorAll("fieldset.rubric").forEach(function (other) { other.classList.remove("armed"); });
    armedAxis = set;
    if (set) set.classList.add("armed");
  }
  function reviewKeys(event) {
    const panel = document.querySelector("[data-review]");
    const form = panel && panel.querySelector("#review-form");
    if (!form || event.ctrlKey || event.metaKey || event.altKey) return false;
    // After R the reason list has the focus: the arrows move it one reason at a time, Enter
    // submits the review, Escape leaves the list (the native list never opens).
    const reason = event.target.matches && event.target.matches('select[name="reason"]');
    if (reason && form.contains(event.target)) {
      const select = event.target;
      if (event.key === "Enter") {
        form.requestSubmit();
      } else if (event.key === "Escape") {
        select.blur();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const step = event.key === "ArrowDown" ? 1 : -1;
        select.selectedIndex = Math.max(0, Math.min(select.options.length - 1, select.selectedIndex + step));
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    }
    const inText = event.target.closest("textarea, input[type=text], select") !== null;
    if (inText) return false;
    if (armedAxis && !form.contains(armedAxis)) armedAxis = null;
    const key = event.key.toLowerCase();
    const axis = form.querySelector('fieldset.rubric[data-key="' + key + '"]');
    if (axis) {
      arm(form, axis);
    } else if (/^[0-5]$/.test(key) && armedAxis) {
      armedAxis.querySelector('input[value="' + (key === "0" ? "" : key) + '"]').checked = true;
      arm(form, null);
    } else if (/^[1-5]$/.test(key)) {
      form.querySelector('input[name="overall"][value="' + key + '"]').checked = true;
    } else if (key === "a" || key === "r") {
      form.querySelector('input[name="decision"][value="' + (key === "a" ? "approve" : "reject") + '"]').checked = true;
      if (key === "r") form.querySelector('select[name="reason"]').focus();
    } else if (key === "s") {
      form.querySelector("[data-skip]").click();
    } else if (key === "e") {
      const box = form.querySelector("#edit-box");
      box.open = true;
      box.querySelector("textarea").focus();
    } else if (event.key === "Enter") {
      form.requestSubmit();
    } else if (event.key === "Escape") {
      arm(form, null);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) return;
    reviewKeys(event);
  }, true);

  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-select-all]")) return;
    const form = event.target.closest("form");
    form.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = event.target.checked; });
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-open-help]")) {
      document.getElementById("keys-help").showModal();
    }
  });
})();

// Destructive forms ask first: <form data-confirm="Deactivate alice?">.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);

// Blind comparison: 1 (story 1), 2 (story 2), 0 (tie); R writes a reason.
document.addEventListener("keydown", function (event) {
  const form = document.querySelector("[data-compare] #compare-form");
  if (!form || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("textarea, input, select")) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const button = form.querySelector('[data-key="' + event.key + '"]');
  if (button) { event.preventDefault(); button.click(); return; }
  if (event.key === "r" || event.key === "R") {
    event.preventDefault();
    form.querySelector("textarea").focus();
  }
});

// The fine-tune form: the LoRA fields only where the method may be LoRA (not "full").
function showLoraFields() {
  const method = document.querySelector("#finetune-form [name=method]");
  if (!method) return;
  document.querySelectorAll("#finetune-form [data-lora]").forEach(function (element) {
    element.hidden = method.value === "full";
  });
}
document.addEventListener("change", function (event) {
  if (event.target.matches("#finetune-form [name=method]")) showLoraFields();
});
document.addEventListener("DOMContentLoaded", showLoraFields);

// The main nav: "Menu" folds it on narrow screens; one group open at a time; a click outside
// or Escape closes an open group.
document.addEventListener("click", function (event) {
  const toggle = event.target.closest("[data-nav-toggle]");
  if (toggle) {
    const nav = document.getElementById("main-nav");
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    return;
  }
  document.querySelectorAll("details.navgroup[open]").forEach(function (group) {
    if (!group.contains(event.target)) group.open = false;
  });
});
document.addEventListener("toggle", function (event) {
  const group = event.target;
  if (!group.matches || !group.matches("details.navgroup") || !group.open) return;
  document.querySelectorAll("details.navgroup[open]").forEach(function (other) {
    if (other !== group) other.open = false;
  });
}, true);
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  const group = document.activeElement && document.activeElement.closest("details.navgroup[open]");
  if (group) { group.open = false; group.querySelector("summary").focus(); }
});

// Adjudication: A approve, R reject (the reason then takes the focus); Enter in the reason
// saves and opens the next story, Shift+Enter is a new line, Escape leaves the reason.
document.addEventListener("keydown", function (event) {
  const form = document.getElementById("adjudicate-form");
  if (!form || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const reason = form.querySelector("textarea[name=reason]");
  if (event.target === reason) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    else if (event.key === "Escape") { reason.blur(); }
    return;
  }
  if (event.target.closest("textarea, select, input:not([type=radio])")) return;
  const pick = { a: "approve", r: "reject" }[event.key.toLowerCase()];
  if (!pick) return;
  const choice = form.querySelector('input[name=decision][value="' + pick + '"]');
  if (!choice) return;
  choice.checked = true;
  reason.focus();
  event.preventDefault();
});
