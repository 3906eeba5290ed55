// Actions that cannot be taken back ask first: a form with data-confirm is sent only when the
// person agrees to its question. Without JavaScript the form is sent as before.
// A question may name the form's own fields, as in "from {first_day}": their values are put in.
// While one of those is empty there is nothing to confirm yet: the form goes, and the server
// answers with what is missing.
// A form that also has data-reason asks in a dialog of the page's own instead, with a box for an
// optional reason that goes into the form's hidden "reason" field (data-reason is the box's
// label, data-reason-max its length, data-yes and data-no the two buttons).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (!question) {
    return;
  }
  if (form.dataset.agreed) {  // sent again by the dialog below
    delete form.dataset.agreed;
    return;
  }
  let incomplete = false;
  const asked = question.replace(/\{(\w+)\}/g, (_, name) => {
    const value = form.elements[name] ? form.elements[name].value : "";
    incomplete = incomplete || !value;
    return value;
  });
  if (incomplete) {
    return;
  }
  if (form.dataset.reason !== undefined && typeof HTMLDialogElement === "function") {
    event.preventDefault();
    askWithReason(form, asked);
  } else if (!window.confirm(asked)) {
    event.preventDefault();
  }
});

let reasonDialog = null;

function buildReasonDialog() {
  const dialog = document.createElement("dialog");
  dialog.className = "reason-dialog";
  dialog.setAttribute("aria-labelledby", "reason-dialog-question");
  dialog.innerHTML = `
    <form method="dialog">
      <p id="reason-dialog-question" class="mb-3"></p>
      <label class="form-label" for="reason-dialog-text"></label>
      <textarea class="form-control" id="reason-dialog-text" rows="2"></textarea>
      <div class="d-flex flex-wrap gap-2 justify-content-end mt-3">
        <button type="submit" value="no" class="btn btn-outline-secondary"></button>
        <button type="submit" value="yes" class="btn btn-danger"></button>
      </div>
    </form>`;
  document.body.append(dialog);
  return dialog;
}

function askWithReason(form, question) {
  reasonDialog = reasonDialog || buildReasonDialog();
  const dialog = reasonDialog;
  const text = dialog.querySelector("textarea");
  dialog.querySelector("p").textContent = question;
  dialog.querySelector("label").textContent = form.dataset.reason;
  dialog.querySelector("button[value=no]").textContent = form.dataset.no;
  dialog.querySelector("button[value=yes]").textContent = form.dataset.yes;
  text.maxLength = Number(form.dataset.reasonMax) || 200;
  text.value = "";
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue === "yes") {
      form.elements.reason.value = text.value;
      form.dataset.agreed = "yes";
      form.requestSubmit();
    }
  };
  dialog.showModal();
  text.focus();
}
