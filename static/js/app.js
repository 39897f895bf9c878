// hiveo: the few behaviours htmx does not give. Every page works without this file.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  document.addEventListener("htmx:configRequest", function (event) {
    if (csrfMeta) {
      event.detail.headers["X-CSRFToken"] = csrfMeta.getAttribute("content");
    }
  });

  // Disclosure menus: Escape closes the open one and gives focus back to its
  // summary; a click elsewhere closes them all.
  function openMenus() {
    return document.querySelectorAll("details[data-menu][open]");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || document.querySelector("dialog[open]")) {
      return;
    }
    openMenus().forEach(function (menu) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) {
        summary.focus();
      }
    });
  });
  // Arrow keys, Home and End move between a menu's items; ArrowDown on the
  // summary opens the menu on its first item.
  function menuItems(menu) {
    return Array.prototype.filter.call(
      menu.querySelectorAll(".menu-panel a[href], .menu-panel button:not([disabled])"),
      function (item) { return item.offsetParent !== null; });
  }
  document.addEventListener("keydown", function (event) {
    var keys = ["ArrowDown", "ArrowUp", "Home", "End"];
    if (keys.indexOf(event.key) < 0 || !event.target.closest) {
      return;
    }
    var menu = event.target.closest("details[data-menu]");
    if (!menu) {
      return;
    }
    if (!menu.open) {
      if (event.key !== "ArrowDown" || event.target.tagName !== "SUMMARY") {
        return;
      }
      menu.open = true;
    }
    var items = menuItems(menu);
    if (!items.length) {
      return;
    }
    event.preventDefault();
    var index = items.indexOf(document.activeElement);
    var next;
    if (event.key === "Home") {
      next = 0;
    } else if (event.key === "End") {
      next = items.length - 1;
    } else if (event.key === "ArrowDown") {
      next = index < 0 ? 0 : (index + 1) % items.length;
    } else {
      next = index < 0 ? items.length - 1 : (index - 1 + items.length) % items.length;
    }
    items[next].focus();
  });
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });

  // Confirmation dialogs: the server answers htmx with a <dialog data-modal>.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-opens-dialog")) {
      var menu = elt.closest("details[data-menu]");
      opener = menu ? menu.querySelector("summary") : elt;
    }
  });

  function closeDialog(dialog) {
    if (dialog.open) {
      dialog.close();
    }
  }

  function setUpDialog(dialog) {
    if (dialog.dataset.ready) {
      return;
    }
    dialog.dataset.ready = "1";
    var returnTo = opener;
    var returnToId = opener && opener.id;
    opener = null;
    dialog.addEventListener("close", function () {
      dialog.remove();
      // The element that opened the dialog may have been swapped out meanwhile
      // (the menu is re-rendered after a change): find its successor by id.
      var target = (returnToId && document.getElementById(returnToId)) || returnTo;
      if (target && document.contains(target)) {
        target.focus();
      }
    });
    dialog.querySelectorAll("[data-dialog-close]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        closeDialog(dialog);
      });
    });
    dialog.addEventListener("htmx:afterRequest", function (event) {
      // A 422 re-renders the form inside the dialog; only a real success closes it.
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status >= 200 && status < 300) {
        closeDialog(dialog);
      }
    });
    // Tab and Shift+Tab stay inside the dialog (showModal alone lets focus
    // leave for the browser's own controls).
    dialog.addEventListener("keydown", function (event) {
      if (event.key !== "Tab") {
        return;
      }
      var focusable = Array.prototype.filter.call(
        dialog.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])"),
        function (item) { return item.offsetParent !== null; });
      if (!focusable.length) {
        return;
      }
      var first = focusable[0];
      var last = focusable[focusable.length - 1];
      if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    });
    openMenus().forEach(function (menu) { menu.open = false; });
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]") || dialog.querySelector("button, a[href], input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  // Errors from htmx requests, shown where flash messages go.
  function showMessage(text, category) {
    var region = document.getElementById("flash");
    if (!region) {
      return;
    }
    var p = document.createElement("p");
    p.className = "flash flash-" + (category || "error");
    p.textContent = text;
    region.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    var text = type.indexOf("text/plain") === 0 && xhr.responseText
      ? xhr.responseText
      : "Une erreur est survenue (" + xhr.status + "). Rechargez la page puis réessayez.";
    showMessage(text, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showMessage("Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.", "error");
  });

  // Upload zone: drop a file on it, see its name and size, and hear at once
  // when it is not a PDF or too large (the server checks again).
  function sizeFr(bytes) {
    if (bytes < 1024) {
      return bytes + (bytes < 2 ? " octet" : " octets");
    }
    var value = bytes < 1048576 ? bytes / 1024 : bytes / 1048576;
    var text = (Math.round(value * 10) / 10).toString().replace(".", ",");
    return text + (bytes < 1048576 ? "\u202fKo" : "\u202fMo");
  }
  function setUpUploadZone(zone) {
    if (zone.dataset.ready) {
      return;
    }
    zone.dataset.ready = "1";
    var input = zone.querySelector("input[type=file]");
    var chosen = zone.querySelector("[data-upload-chosen]");
    if (!input || !chosen) {
      return;
    }
    var max = parseInt(zone.dataset.maxBytes, 10) || 0;
    function show() {
      var file = input.files && input.files[0];
      chosen.classList.remove("is-invalid");
      if (!file) {
        chosen.textContent = "";
        return;
      }
      var text = "Fichier choisi\u00a0: " + file.name + " (" + sizeFr(file.size) + ")";
      if (!/\.pdf$/i.test(file.name) && file.type !== "application/pdf") {
        chosen.classList.add("is-invalid");
        text += " — ce fichier n\u2019est pas un PDF.";
      } else if (max && file.size > max) {
        chosen.classList.add("is-invalid");
        text += " — trop volumineux\u00a0: " + zone.dataset.maxLabel + " au plus.";
      }
      chosen.textContent = text;
    }
    input.addEventListener("change", show);
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("is-dragging");
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("is-dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("is-dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    show();
  }

  function init() {
    if (window.htmx) {
      window.htmx.onLoad(function (root) {
        var dialogs = root.matches && root.matches("dialog[data-modal]")
          ? [root]
          : root.querySelectorAll ? root.querySelectorAll("dialog[data-modal]") : [];
        Array.prototype.forEach.call(dialogs, setUpDialog);
        var zones = root.querySelectorAll ? root.querySelectorAll("[data-upload-zone]") : [];
        Array.prototype.forEach.call(zones, setUpUploadZone);
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
