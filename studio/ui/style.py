"""The studio's few style rules (passed to launch(css=...), as Gradio 6 wants)."""

CSS = """
#studio-header { align-items: center; }
#studio-header .prose h2 { margin-bottom: 0.2em; }
#language { max-width: 220px; }
.studio-progress { margin: 0.25rem 0 0.5rem; }
.studio-progress-track { height: 14px; border-radius: 7px; background: var(--neutral-200, #e5e7eb); overflow: hidden; }
.studio-progress-fill { height: 100%; background: var(--color-accent, #2563eb); transition: width 0.6s ease; }
.studio-progress.finished .studio-progress-fill { background: #16a34a; }
.studio-progress.failed .studio-progress-fill, .studio-progress.interrupted .studio-progress-fill { background: #dc2626; }
.studio-progress.cancelled .studio-progress-fill { background: #9ca3af; }
.studio-progress.busy .studio-progress-fill { width: 30% !important; animation: studio-slide 1.4s ease-in-out infinite; }
@keyframes studio-slide { 0% { margin-left: -30%; } 100% { margin-left: 100%; } }
.studio-progress-text { margin-top: 0.35rem; font-size: 0.95rem; color: var(--body-text-color-subdued, #4b5563); }
.studio-cards { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.25rem 0 0.75rem; }
.studio-card { flex: 1 1 150px; border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 10px;
               padding: 0.75rem 1rem; background: var(--background-fill-secondary, #f9fafb); }
.studio-card-value { font-size: 1.8rem; font-weight: 700; line-height: 1.2; }
.studio-card-title { font-weight: 600; margin-top: 0.2rem; }
.studio-card-info { font-size: 0.85rem; color: var(--body-text-color-subdued, #6b7280); }
.studio-summary { font-size: 1.02rem; }
.studio-warning { font-size: 1.05rem; font-weight: 600; padding: 0.6rem 0.9rem; margin: 0.25rem 0 0.5rem;
                  border-left: 5px solid #d97706; border-radius: 6px; background: rgba(217, 119, 6, 0.12); }
.studio-empty { color: var(--body-text-color-subdued, #6b7280); }
#train-status { font-size: 1.05rem; }
"""
