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

  function init() {
    if (window.htmx) {
      window.htmx.onLoad(function (root) {
        var dialogs = root.matches && root.matches("dialog[data-modal]")
          ? [root]
          : root.querySelectorAll ? root.querySelectorAll("dialog[data-modal]") : [];
        Array.prototype.forEach.call(dialogs, setUpDialog);
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
