/*
 * Review keyboard: one key per decision, arrows to move, auto-advance, a keymap people can
 * change, and the time from key press to the server's answer. Shared by the backend's review
 * page and the cell's station page: it knows nothing about either, the markup says everything.
 *
 * Markup:
 *   <ol data-review-queue data-submit-url="/api/review/{id}" data-csrf="TOKEN"
 *       data-keymap='{"x": "fail"}'>                       (data-keymap is optional)
 *     <li data-review-item data-item-id="ID" data-classes='["scratch", "dent"]'>
 *       ... <span data-review-status></span>
 *     </li>
 *   </ol>
 *   <span data-review-latency></span>                     (optional, anywhere on the page)
 *
 * A decision POSTs JSON {"decision": "pass" | "fail" | "reinspect", "label": "<class>" | ""}
 * to data-submit-url with {id} replaced by the item id (URL-encoded), header X-CSRF-Token;
 * the server answers JSON {"ok": true | false, "message": "..."}.
 *
 * Actions: pass, fail, reinspect, next, prev, class:N (fail with the item's N-th class).
 * Keymap: DEFAULT_KEYMAP, then the container's data-keymap, then the user's own from
 * localStorage "reviewKeymap" (JSON, same form), later ones win.
 */
(function () {
  "use strict";

  const DEFAULT_KEYMAP = {
    p: "pass",
    f: "fail",
    r: "reinspect",
    ArrowDown: "next",
    ArrowRight: "next",
    j: "next",
    ArrowUp: "prev",
    ArrowLeft: "prev",
    k: "prev",
  };
  for (let n = 1; n <= 9; n += 1) {
    DEFAULT_KEYMAP[String(n)] = "class:" + n;
  }

  function parseJson(text, fallback) {
    if (!text) {
      return fallback;
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      return fallback;
    }
  }

  function loadKeymap(container) {
    let own = null;
    try {
      own = window.localStorage.getItem("reviewKeymap");
    } catch (err) {
      own = null; // storage disabled: defaults only
    }
    return Object.assign(
      {},
      DEFAULT_KEYMAP,
      parseJson(container.dataset.keymap, {}),
      parseJson(own, {})
    );
  }

  function typingInField(event) {
    const el = event.target;
    return (
      el instanceof HTMLElement &&
      (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName))
    );
  }

  class ReviewQueue {
    constructor(container) {
      this.container = container;
      this.items = Array.from(container.querySelectorAll("[data-review-item]"));
      this.keymap = loadKeymap(container);
      this.latencies = [];
      this.index = -1;
      this.latencyEl = document.querySelector("[data-review-latency]");
      this.onKey = this.onKey.bind(this);
      document.addEventListener("keydown", this.onKey);
      this.focus(this.nextUndecided(-1, 1));
    }

    onKey(event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) {
        return;
      }
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      const action = this.keymap[key];
      if (!action) {
        return;
      }
      event.preventDefault();
      this.run(action, performance.now());
    }

    run(action, pressedAt) {
      if (action === "next" || action === "prev") {
        const step = action === "next" ? 1 : -1;
        this.focus(Math.min(Math.max(this.index + step, 0), this.items.length - 1));
        return;
      }
      const item = this.items[this.index];
      if (!item || item.dataset.state === "decided" || item.dataset.state === "sending") {
        return;
      }
      if (action.startsWith("class:")) {
        const n = Number(action.slice(6));
        const classes = parseJson(item.dataset.classes, []);
        if (!(n >= 1 && n <= classes.length)) {
          this.status(item, "no class " + n + " here");
          return;
        }
        this.decide(item, "fail", classes[n - 1], pressedAt);
      } else if (["pass", "fail", "reinspect"].includes(action)) {
        this.decide(item, action, "", pressedAt);
      }
    }

    decide(item, decision, label, pressedAt) {
      const url = this.container.dataset.submitUrl.replace(
        "{id}",
        encodeURIComponent(item.dataset.itemId)
      );
      item.dataset.state = "sending";
      this.status(item, "sending " + decision + (label ? " " + label : "") + "…");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": this.container.dataset.csrf || "",
        },
        body: JSON.stringify({ decision: decision, label: label }),
      })
        .then((response) =>
          response
            .json()
            .catch(() => ({}))
            .then((body) => ({ response: response, body: body }))
        )
        .then(({ response, body }) => {
          this.recordLatency(performance.now() - pressedAt);
          if (response.ok && body.ok) {
            item.dataset.state = "decided";
            item.dataset.decision = decision;
            this.status(item, decision + (label ? " " + label : ""));
          } else {
            item.dataset.state = "error";
            this.status(item, body.message || body.detail || "HTTP " + response.status);
          }
        })
        .catch((err) => {
          item.dataset.state = "error";
          this.status(item, "not sent: " + err);
        });
      this.focus(this.nextUndecided(this.index, 1));
    }

    recordLatency(ms) {
      this.latencies.push(ms);
      if (this.latencyEl) {
        this.latencyEl.textContent = ms.toFixed(0) + " ms";
      }
    }

    nextUndecided(from, step) {
      for (let i = from + step; i >= 0 && i < this.items.length; i += step) {
        const state = this.items[i].dataset.state;
        if (state !== "decided" && state !== "sending") {
          return i;
        }
      }
      return Math.max(Math.min(from, this.items.length - 1), 0);
    }

    focus(index) {
      const previous = this.items[this.index];
      if (previous) {
        previous.classList.remove("current");
        previous.removeAttribute("aria-current");
      }
      this.index = index;
      const item = this.items[index];
      if (item) {
        item.classList.add("current");
        item.setAttribute("aria-current", "true");
        item.scrollIntoView({ block: "nearest" });
      }
    }

    status(item, text) {
      const el = item.querySelector("[data-review-status]");
      if (el) {
        el.textContent = text;
      }
    }
  }

  window.ReviewKeys = {
    DEFAULT_KEYMAP: DEFAULT_KEYMAP,
    attach: (container) => new ReviewQueue(container),
  };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-review-queue]").forEach((container) => {
      container.reviewKeys = new ReviewQueue(container);
    });
  });
})();
