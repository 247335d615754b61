// The read-only BPMN diagram on a workflow version page (bpmn-js viewer, window.BpmnJS).
const container = document.getElementById('diagram')

async function show () {
  if (!container || !window.BpmnJS) return
  const response = await fetch(container.dataset.diagramUrl, { credentials: 'same-origin' })
  if (!response.ok) throw new Error('diagram ' + response.status)
  const xml = await response.text()
  container.textContent = ''
  const viewer = new window.BpmnJS({ container })
  await viewer.importXML(xml)
  viewer.get('canvas').zoom('fit-viewport', 'auto')
  container.classList.add('app-diagram--ready')
}

show().catch(() => {
  if (container) {
    container.innerHTML = '<p class="govuk-body">The diagram could not be shown. The steps are listed below.</p>'
  }
})
