// A button with data-copy="<id>" copies that field's value to the clipboard and says so. It is
// hidden until this script shows it: without JavaScript (or a clipboard) the field is selected
// and copied by hand as before.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) {
    return;
  }
  const label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = "Copied";
    } catch {
      field.select();  // the browser refused: leave it selected for Ctrl+C
      button.textContent = "Select and copy it";
    }
    setTimeout(() => { button.textContent = label; }, 4000);
  });
});
