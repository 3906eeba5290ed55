// Actions that cannot be taken back ask first: a form with data-confirm is sent only when the
// person agrees to its question. Without JavaScript the form is sent as before.
// A question may name the form's own fields, as in "from {first_day}": their values are put in.
// While one of those is empty there is nothing to confirm yet: the form goes, and the server
// answers with what is missing.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (!question) {
    return;
  }
  let incomplete = false;
  const asked = question.replace(/\{(\w+)\}/g, (_, name) => {
    const value = form.elements[name] ? form.elements[name].value : "";
    incomplete = incomplete || !value;
    return value;
  });
  if (!incomplete && !window.confirm(asked)) {
    event.preventDefault();
  }
});
